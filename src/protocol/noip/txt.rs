//! DynDNS2-style challenge values, as acme.sh-style hooks send them:
//! `hostname=_acme-challenge.NAME&txt=VALUE` adds the value; an empty `txt=` removes every
//! value this user set there; on `/nic/delete`, `txt=VALUE` removes that one value. A request
//! with `txt` changes no address, whatever else it carries, and its answer repeats none.
//! On other names an empty `txt=` counts as absent, as empty parameters do in NoIP's
//! protocol, so a router template with an empty `txt=` still updates addresses.

use crate::address::AddressError;
use crate::core::operation::Operation;
use crate::core::txt::TxtValue;
use crate::protocol::params::Params;

/// The parameter.
const TXT: &str = "txt";

/// The operations a request with `txt` asks for; None for a request without it, or with
/// an empty one when `challenge` (some name is an `_acme-challenge` name) is false.
pub fn operations(
    params: &Params,
    delete: bool,
    challenge: bool,
) -> Option<Result<Vec<Operation>, AddressError>> {
    let text = params.get_even_empty(TXT)?;
    if text.trim().is_empty() {
        return challenge.then(|| Ok(vec![Operation::TxtClear]));
    }
    Some(TxtValue::parse(text).map(|value| match delete {
        true => vec![Operation::TxtRemove(value)],
        false => vec![Operation::TxtAdd(value)],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

    fn ops(query: &str, delete: bool) -> Option<Result<Vec<Operation>, AddressError>> {
        operations(&Params::read(query, None, b""), delete, true)
    }

    #[test]
    fn txt_adds_removes_or_clears() {
        let value = TxtValue::parse(A).unwrap();
        assert_eq!(ops("hostname=h", false), None);
        assert_eq!(
            ops(&format!("txt={A}&myip=1.2.3.4"), false),
            Some(Ok(vec![Operation::TxtAdd(value.clone())]))
        );
        assert_eq!(
            ops(&format!("txt={A}"), true),
            Some(Ok(vec![Operation::TxtRemove(value)]))
        );
        assert_eq!(ops("txt=", false), Some(Ok(vec![Operation::TxtClear])));
        assert_eq!(ops("txt=%20", true), Some(Ok(vec![Operation::TxtClear])));
        assert_eq!(ops("txt=hello", false), Some(Err(AddressError::TxtValue)));
        let params = Params::read("txt=&myip=1.2.3.4", None, b"");
        assert_eq!(operations(&params, false, false), None);
    }
}
