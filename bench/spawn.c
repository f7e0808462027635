/* Times programs run directly as CGI processes, without a web server: the benchmark's
 * process-only figures.
 *
 *   spawn RUNS WARMUP SEED STDERR-FILE  NAME QUERY BODY PROGRAM  [NAME QUERY BODY PROGRAM]...
 *
 * Every run starts PROGRAM as a web server starts a CGI: with the driver's own environment
 * plus QUERY_STRING=QUERY, stdin from /dev/null, stdout into a pipe and stderr appended to
 * STDERR-FILE. Its time runs from just before posix_spawn() to waitpid() returning, after the
 * whole answer has been read from the pipe. The answer's body (what follows the header's
 * empty line, or all of it when there is no header) must be exactly BODY and the exit status
 * 0, else the driver stops with exit status 1: a wrong answer is not timed. After WARMUP
 * untimed runs of each program, RUNS rounds run every program once, in an order shuffled
 * anew each round (from SEED), so that all of them meet the same machine state. Prints one
 * line per timed run: NAME, a tab, nanoseconds.
 *
 * Why C and posix_spawn: whatever the driver does between its two clock readings lands in
 * every time measured. glibc's posix_spawn starts the child with clone(CLONE_VM|CLONE_VFORK),
 * which copies no page tables, and the driver itself only makes a few system calls while the
 * clock runs. Python's subprocess would add its interpreter's work (the Popen object, the
 * pipe bookkeeping, communicate()'s poll loop) and its jitter to every run: about 0.1 ms on
 * the bench machine, as much as the whole target for ddns-cgi's own work.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct program {
    const char *name, *body, *path;
    char **envp;
};

/* The environment of this process with QUERY_STRING set to `query`. */
static char **env_with_query(const char *query)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + 2, sizeof *envp);
    size_t len = strlen("QUERY_STRING=") + strlen(query) + 1;
    char *q = malloc(len);
    if (!envp || !q) {
        perror("spawn: malloc");
        exit(2);
    }
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "QUERY_STRING=", 13) != 0)
            envp[k++] = environ[i];
    snprintf(q, len, "QUERY_STRING=%s", query);
    envp[k] = q;
    return envp;
}

static long long nanoseconds(const struct timespec *a, const struct timespec *b)
{
    return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL + (b->tv_nsec - a->tv_nsec);
}

/* Runs `p` once and checks its answer; its time in ns, or -1 after saying what was wrong. */
static long long run(const struct program *p, int null_fd, int err_fd)
{
    static char out[65536];
    char *argv[] = {(char *)p->path, NULL};
    posix_spawn_file_actions_t actions;
    struct timespec t0, t1;
    int fds[2], status, too_long = 0;
    size_t len = 0;
    pid_t pid;

    /* Outside the clock: a web server has its pipes ready before it starts the CGI too. */
    if (pipe2(fds, O_CLOEXEC) != 0) {
        perror("spawn: pipe");
        return -1;
    }
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, null_fd, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_fd, 2);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = posix_spawn(&pid, p->path, &actions, NULL, argv, p->envp);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        posix_spawn_file_actions_destroy(&actions);
        fprintf(stderr, "spawn: %s: cannot start %s: %s\n", p->name, p->path, strerror(rc));
        return -1;
    }
    for (;;) {
        char scratch[4096];
        char *into = too_long ? scratch : out + len;
        size_t room = too_long ? sizeof scratch : sizeof out - 1 - len;
        ssize_t got = read(fds[0], into, room);
        if (got <= 0)
            break;
        if (!too_long) {
            len += (size_t)got;
            too_long = len == sizeof out - 1;
        }
    }
    waitpid(pid, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(fds[0]);
    posix_spawn_file_actions_destroy(&actions);

    out[len] = '\0';
    char *end_of_header = strstr(out, "\r\n\r\n");
    const char *body = end_of_header ? end_of_header + 4 : out;
    /* A NUL byte in the answer would hide the rest of it from strcmp(). */
    int has_nul = strlen(out) != len;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || too_long || has_nul ||
        strcmp(body, p->body) != 0) {
        fprintf(stderr, "spawn: %s: wait status %d, answer \"%s\", expected body \"%s\"\n",
                p->name, status, out, p->body);
        return -1;
    }
    return nanoseconds(&t0, &t1);
}

/* xorshift64: the same order for the same seed, on every machine. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

int main(int argc, char **argv)
{
    if (argc < 9 || (argc - 5) % 4 != 0) {
        fprintf(stderr, "usage: spawn RUNS WARMUP SEED STDERR-FILE NAME QUERY BODY PROGRAM...\n");
        return 2;
    }
    long runs = strtol(argv[1], NULL, 10), warmup = strtol(argv[2], NULL, 10);
    uint64_t seed = strtoull(argv[3], NULL, 10) | 1;
    size_t n = (size_t)(argc - 5) / 4;
    if (runs < 1 || warmup < 0) {
        fprintf(stderr, "spawn: RUNS must be at least 1 and WARMUP at least 0\n");
        return 2;
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int err_fd = open(argv[4], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (null_fd < 0 || err_fd < 0) {
        perror("spawn: open");
        return 2;
    }
    struct program *programs = calloc(n, sizeof *programs);
    size_t *order = calloc(n, sizeof *order);
    long long *times = calloc(n * (size_t)runs, sizeof *times);
    if (!programs || !order || !times) {
        perror("spawn: malloc");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        char **a = argv + 5 + 4 * i;
        programs[i] = (struct program){a[0], a[2], a[3], env_with_query(a[1])};
        order[i] = i;
    }

    for (size_t i = 0; i < n; i++)
        for (long w = 0; w < warmup; w++)
            if (run(&programs[i], null_fd, err_fd) < 0)
                return 1;
    for (long r = 0; r < runs; r++) {
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(next_random(&seed) % (i + 1)), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (size_t i = 0; i < n; i++) {
            long long ns = run(&programs[order[i]], null_fd, err_fd);
            if (ns < 0)
                return 1;
            times[order[i] * (size_t)runs + (size_t)r] = ns;
        }
    }
    for (size_t i = 0; i < n; i++)
        for (long r = 0; r < runs; r++)
            printf("%s\t%lld\n", programs[i].name, times[i * (size_t)runs + (size_t)r]);
    return fflush(stdout) == 0 ? 0 : 1;
}
