/* The floor of the benchmark: the least a CGI program can do to answer an update.
 *
 * It reads nothing and decides nothing; it prints a NoIP answer with the same headers
 * ddns-cgi sends. Apache serves it with the same Basic auth as ddns-cgi, so its time is
 * what every CGI answer costs on this machine (TCP connection, password check, fork and
 * exec, reading the answer) before the program does any work of its own.
 */
#include <stdio.h>

int main(void)
{
    static const char body[] = "nochg 1.2.3.4\n";
    printf("Status: 200 OK\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: %zu\r\n"
           "\r\n"
           "%s",
           sizeof body - 1, body);
    return 0;
}
