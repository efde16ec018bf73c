//! Logsource routing at event time: a rule's [`Route`] (from the pipeline) lists the formats it
//! reads; for syslog, a service other than `syslog` reads only the lines of its programs.

use super::view::View;
use crate::parse::Format;
pub use crate::rules::pipeline::{Logsource, Route};

/// True when the rule applies to this event.
pub fn applies(route: &Route, f: Format, v: &mut View<'_, '_>) -> bool {
    let Some((_, programs)) = route.formats.iter().find(|(x, _)| *x == f) else {
        return false;
    };
    let Some((field, names)) = programs else {
        return true;
    };
    let Some(prog) = v.value_lower(field) else {
        return false;
    };
    // `sshd(pam_unix)` is sshd.
    let prog = prog.split(|c| *c == b'(').next().unwrap_or_default();
    names.iter().any(|n| n.as_bytes() == prog)
}
