//! The server key that seals an MRTR `requestState` (SEP-2322).
//!
//! A sealed state is `base64url(nonce ‖ XChaCha20-Poly1305(plaintext))`:
//! the client can neither read nor change it, and only an instance holding
//! the same key can open it, so instances behind one load balancer must
//! share the key (`--state-key`); the default is a random key per process.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// A 32-byte key for sealing `requestState`.
#[derive(Clone)]
pub struct StateKey(XChaCha20Poly1305);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("StateKey(..)")
    }
}

impl StateKey {
    /// A fresh random key (the default: states die with the process).
    pub fn random() -> StateKey {
        let mut key = [0u8; KEY_LEN];
        fill_random(&mut key);
        StateKey(XChaCha20Poly1305::new(&key.into()))
    }

    /// A key from its standard base64 form (32 bytes once decoded), as
    /// given to `--state-key` / `MCP_STATE_KEY`.
    pub fn from_base64(text: &str) -> Result<StateKey, String> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| format!("the state key is not valid base64: {e}"))?;
        let key: [u8; KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
            format!(
                "the state key must be {KEY_LEN} bytes once decoded, not {} (e.g. `openssl rand -base64 32`)",
                bytes.len()
            )
        })?;
        Ok(StateKey(XChaCha20Poly1305::new(&key.into())))
    }

    /// Encrypt and authenticate `plaintext`; a fresh random nonce each time.
    pub(crate) fn seal(&self, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce);
        // Encryption into a Vec fails only on absurd lengths (over 256 GiB).
        let sealed = self
            .0
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The plaintext of a state this key sealed; None for anything else
    /// (altered, truncated, not base64, sealed with another key).
    pub(crate) fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        self.0.decrypt(XNonce::from_slice(nonce), body).ok()
    }
}

fn fill_random(buf: &mut [u8]) {
    if getrandom::fill(buf).is_err() {
        // As for session ids: no entropy source is not something to limp along without.
        panic!("the operating system's random source is unavailable");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_state_opens_only_unaltered_and_with_its_key() {
        let key = StateKey::random();
        let sealed = key.seal(b"hello");
        assert_eq!(key.open(&sealed).as_deref(), Some(&b"hello"[..]));
        assert_ne!(key.seal(b"hello"), sealed, "a fresh nonce each time");
        assert!(
            !String::from_utf8_lossy(&URL_SAFE_NO_PAD.decode(&sealed).unwrap()).contains("hello")
        );
        assert!(key.open(&format!("{sealed}-TAMPERED")).is_none());
        let mut flipped = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(key.open(&URL_SAFE_NO_PAD.encode(flipped)).is_none());
        assert!(StateKey::random().open(&sealed).is_none());
        assert!(key.open("").is_none() && key.open("AAAA").is_none());
    }

    #[test]
    fn a_shared_key_comes_from_base64() {
        let text = STANDARD.encode([7u8; 32]);
        let a = StateKey::from_base64(&text).unwrap();
        let b = StateKey::from_base64(&format!(" {text}\n")).unwrap();
        assert_eq!(b.open(&a.seal(b"x")).as_deref(), Some(&b"x"[..]));
        assert!(StateKey::from_base64("not base64!").is_err());
        let short = StateKey::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err();
        assert!(short.contains("32 bytes"), "{short}");
    }
}
