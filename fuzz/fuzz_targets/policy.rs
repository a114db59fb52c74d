//! The policy file on arbitrary text: a policy or an error that names the line.
//! Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(policy) = airlock_policy::Policy::from_toml(&text) {
        let _ = policy.digest();
    }
});
