//! Encoders of the fakes' page cursors (base64) and ids (base62).

pub(super) fn b64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

pub(super) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

pub(super) fn base62(mut n: u64) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    for _ in 0..11 {
        out.push(ALPHABET[(n % 62) as usize]);
        n /= 62;
    }
    String::from_utf8(out).expect("ascii")
}
