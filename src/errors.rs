//! How the application words an OS error inside its one-line messages:
//! lowercase, without the " (os error N)" suffix. (The core words its own
//! the same way, privately.)

/// Lowercases the first letter of an OS message ("No such file" → "no such file").
pub(crate) fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An I/O error's text for a one-line message: lowercase, without the
/// " (os error N)" suffix ("no such file or directory").
pub(crate) fn io_message(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => &text,
    };
    lower_first(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_os_error_reads_lowercase_without_its_number() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_message(&e), "no such file or directory");
        assert_eq!(lower_first("Bad"), "bad");
        assert_eq!(lower_first(""), "");
    }
}
