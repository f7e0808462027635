//! Request parameters from the query string and, on POST/PUT, a form body.

use url::form_urlencoded;

/// Parameters in the order they arrived: query first, so the query wins on conflict; the
/// first occurrence of a repeated name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Reads the query, plus the body when its content type is a form. Any other body
    /// (a Cisco ASA's device details, say) is ignored.
    pub fn read(query: &str, content_type: Option<&str>, body: &[u8]) -> Params {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let media = content_type
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        match media.as_str() {
            "application/x-www-form-urlencoded" => pairs.extend(
                form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())),
            ),
            "multipart/form-data" => {
                if let Some(boundary) = content_type.and_then(boundary_of) {
                    pairs.extend(multipart_fields(body, &boundary));
                }
            }
            _ => {}
        }
        Params(pairs)
    }

    /// The first value of `name`, with empty values treated as absent (`myip=` means "use
    /// the source address", as clients send it).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    /// The first value of `name`, an empty one included: for the few parameters where
    /// `name=` says something (an empty `txt=` removes challenge values).
    pub fn get_even_empty(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// How often `name` occurs, to log ignored repeats.
    pub fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|(k, _)| k == name).count()
    }
}

fn boundary_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|part| {
        let (key, value) = part.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Text fields of a `multipart/form-data` body (pfSense posts its updates this way).
fn multipart_fields(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let body = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut fields = Vec::new();
    for part in body.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let name = head.lines().find_map(|line| {
            let (field, rest) = line.split_once(':')?;
            if !field.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            rest.split(';').find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k.trim() == "name").then(|| v.trim().trim_matches('"').to_string())
            })
        });
        if let Some(name) = name {
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            fields.push((name, value.to_string()));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wins_and_first_occurrence_wins() {
        let p = Params::read(
            "hostname=a.example.com&myip=&myip=84.1.1.1&x=%41",
            Some("application/x-www-form-urlencoded; charset=utf-8"),
            b"hostname=b.example.com&myipv6=2a01%3A4f8%3A%3A1",
        );
        assert_eq!(p.get("hostname"), Some("a.example.com"));
        assert_eq!(p.get("myip"), None);
        assert_eq!(p.count("myip"), 2);
        assert_eq!(p.get("myipv6"), Some("2a01:4f8::1"));
        assert_eq!(p.get("x"), Some("A"));
    }

    #[test]
    fn ignores_bodies_that_are_not_forms() {
        let p = Params::read("", Some("application/xml"), b"hostname=a.example.com");
        assert_eq!(p.get("hostname"), None);
    }

    #[test]
    fn reads_multipart_forms() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"hostname\"\r\n\r\nh.example.com\r\n--XyZ\r\nContent-Disposition: form-data; name=\"myip\"\r\n\r\n84.1.1.1\r\n--XyZ--\r\n";
        let p = Params::read(
            "",
            Some("multipart/form-data; boundary=XyZ"),
            body.as_bytes(),
        );
        assert_eq!(p.get("hostname"), Some("h.example.com"));
        assert_eq!(p.get("myip"), Some("84.1.1.1"));
    }
}
