//! The rules for names: 1 to 255 characters of `[A-Za-z0-9._-]`.

use super::RegistryError;

/// The longest name allowed, in characters (all of them ASCII).
pub const MAX_NAME_LEN: usize = 255;

/// Checks that `name` is 1 to 255 characters of `[A-Za-z0-9._-]`.
pub fn validate_name(name: &str) -> Result<(), RegistryError> {
    let invalid = |why| {
        Err(RegistryError::InvalidName {
            name: name.chars().take(300).collect(),
            why,
        })
    };
    if name.is_empty() {
        return invalid("a name cannot be empty");
    }
    if name.len() > MAX_NAME_LEN {
        return invalid("a name is at most 255 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return invalid("a name uses only A-Z, a-z, 0-9, '.', '_' and '-'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert!(validate_name("auth_service-v1.2").is_ok());
        assert!(validate_name(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        for bad in ["", "has space", "slash/name", "émoji", "tab\t"] {
            assert!(
                matches!(validate_name(bad), Err(RegistryError::InvalidName { .. })),
                "{bad:?}"
            );
        }
        assert!(validate_name(&"x".repeat(256)).is_err());
    }
}
