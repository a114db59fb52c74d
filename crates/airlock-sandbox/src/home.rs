//! The sandbox's home directory: canary credentials where stealers look for real
//! ones, and environment variables shaped like CI secrets. Every value is fake and
//! unique to Airlock, so that a read (and, one day, a value on the wire) is ours.

use std::path::Path;

use crate::Error;

/// What a canary stands for: how bad reading it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Secret {
    /// `.npmrc`: also read by ordinary tools (prebuild-install reads npm's config).
    NpmConfig,
    SshKey,
    CloudCredentials,
    GitCredentials,
    Browser,
    Discord,
    Wallet,
    ShellHistory,
}

impl Secret {
    pub fn describe(self) -> &'static str {
        match self {
            Self::NpmConfig => "npm configuration with a registry token",
            Self::SshKey => "an SSH private key",
            Self::CloudCredentials => "cloud CLI credentials",
            Self::GitCredentials => "git credentials",
            Self::Browser => "a browser's passwords, cookies or storage",
            Self::Discord => "Discord's token storage",
            Self::Wallet => "a cryptocurrency wallet",
            Self::ShellHistory => "shell history",
        }
    }
}

/// The canaries: a path under the home directory, what it stands for, its content.
pub const CANARIES: &[(&str, Secret, &str)] = &[
    (
        ".npmrc",
        Secret::NpmConfig,
        "//registry.airlock-canary.invalid/:_authToken=npm_AirlockCanary0000000000000000000000\n",
    ),
    (
        ".ssh/id_rsa",
        Secret::SshKey,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nYWlybG9jay1jYW5hcnk=\n-----END OPENSSH PRIVATE KEY-----\n",
    ),
    (
        ".ssh/id_ed25519",
        Secret::SshKey,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nYWlybG9jay1jYW5hcnk=\n-----END OPENSSH PRIVATE KEY-----\n",
    ),
    (
        ".ssh/id_rsa.pub",
        Secret::SshKey,
        "ssh-rsa AAAAB3NzaC1yc2EAirlockCanary canary@airlock\n",
    ),
    (
        ".aws/credentials",
        Secret::CloudCredentials,
        "[default]\naws_access_key_id = AKIAAIRLOCKCANARY000\naws_secret_access_key = airlock-canary\n",
    ),
    (
        ".config/gcloud/application_default_credentials.json",
        Secret::CloudCredentials,
        "{\"type\":\"authorized_user\",\"refresh_token\":\"airlock-canary\"}\n",
    ),
    (
        ".azure/accessTokens.json",
        Secret::CloudCredentials,
        "[{\"accessToken\":\"airlock-canary\"}]\n",
    ),
    (
        ".kube/config",
        Secret::CloudCredentials,
        "apiVersion: v1\nusers:\n- name: canary\n  user:\n    token: airlock-canary\n",
    ),
    (
        ".docker/config.json",
        Secret::CloudCredentials,
        "{\"auths\":{\"registry.airlock-canary.invalid\":{\"auth\":\"YWlybG9jazpjYW5hcnk=\"}}}\n",
    ),
    (
        ".git-credentials",
        Secret::GitCredentials,
        "https://canary:ghp_AirlockCanary000000000000000000000000@git.airlock-canary.invalid\n",
    ),
    (
        ".config/gh/hosts.yml",
        Secret::GitCredentials,
        "git.airlock-canary.invalid:\n  oauth_token: gho_AirlockCanary0000000000000000000000\n",
    ),
    (
        ".config/google-chrome/Default/Login Data",
        Secret::Browser,
        "airlock-canary",
    ),
    (
        ".config/google-chrome/Default/Cookies",
        Secret::Browser,
        "airlock-canary",
    ),
    (
        ".config/google-chrome/Local State",
        Secret::Browser,
        "{\"os_crypt\":{\"encrypted_key\":\"YWlybG9jay1jYW5hcnk=\"}}",
    ),
    (
        ".config/BraveSoftware/Brave-Browser/Default/Login Data",
        Secret::Browser,
        "airlock-canary",
    ),
    (
        ".mozilla/firefox/canary.default-release/logins.json",
        Secret::Browser,
        "{\"logins\":[]}",
    ),
    (
        ".config/discord/Local Storage/leveldb/000003.log",
        Secret::Discord,
        "airlock-canary",
    ),
    (
        ".config/google-chrome/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn/000003.log",
        Secret::Wallet,
        "airlock-canary",
    ),
    (
        ".config/Exodus/exodus.wallet/seed.seco",
        Secret::Wallet,
        "airlock-canary",
    ),
    (
        ".electrum/wallets/default_wallet",
        Secret::Wallet,
        "airlock-canary",
    ),
    (
        ".ethereum/keystore/UTC--2026-01-01T00-00-00.000000000Z--0000000000000000000000000000000000000000",
        Secret::Wallet,
        "{\"crypto\":{}}",
    ),
    (".config/solana/id.json", Secret::Wallet, "[0,0,0,0]"),
    (".bitcoin/wallet.dat", Secret::Wallet, "airlock-canary"),
    // Where the same stores are on Windows (`APPDATA`, `LOCALAPPDATA` point here
    // when Node is told it runs on Windows).
    (
        "AppData/Roaming/discord/Local Storage/leveldb/000003.log",
        Secret::Discord,
        "airlock-canary",
    ),
    // Windows' file names ignore case and stealers write `Discord`; this file
    // system does not, so the store is there under both spellings.
    (
        "AppData/Roaming/Discord/Local Storage/leveldb/000003.log",
        Secret::Discord,
        "airlock-canary",
    ),
    (
        "AppData/Local/Google/Chrome/User Data/Default/Login Data",
        Secret::Browser,
        "airlock-canary",
    ),
    (
        "AppData/Local/Google/Chrome/User Data/Local State",
        Secret::Browser,
        "{\"os_crypt\":{\"encrypted_key\":\"YWlybG9jay1jYW5hcnk=\"}}",
    ),
    (
        "AppData/Roaming/Exodus/exodus.wallet/seed.seco",
        Secret::Wallet,
        "airlock-canary",
    ),
    (".bash_history", Secret::ShellHistory, "ls\n"),
];

/// Environment variables shaped like CI secrets.
pub const CANARY_ENV: &[(&str, &str)] = &[
    ("NPM_TOKEN", "npm_AirlockCanary0000000000000000000000"),
    ("GITHUB_TOKEN", "ghp_AirlockCanary000000000000000000000000"),
    ("AWS_ACCESS_KEY_ID", "AKIAAIRLOCKCANARY000"),
    ("AWS_SECRET_ACCESS_KEY", "airlock-canary"),
    ("CI", "true"),
];

/// Writes the canaries under `home`.
pub(crate) fn seed(home: &Path) -> Result<(), Error> {
    for (path, _, content) in CANARIES {
        let file = home.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
        }
        std::fs::write(&file, content).map_err(Error::io(&file))?;
    }
    Ok(())
}

/// The canary at `path` (as the sandbox sees it, under `home`), if it is one; a
/// directory holding canaries counts too (a stealer lists `~/.ssh` first).
pub(crate) fn canary(path: &str, home: &str) -> Option<Secret> {
    let relative = path.strip_prefix(home)?.strip_prefix('/')?;
    let relative = relative.trim_end_matches('/');
    if relative.is_empty() {
        return None;
    }
    CANARIES.iter().find_map(|(canary, secret, _)| {
        let exact = *canary == relative;
        let holds = canary
            .strip_prefix(relative)
            .is_some_and(|rest| rest.starts_with('/'))
            && relative.contains('/')
            || matches!(
                relative,
                ".ssh" | ".aws" | ".kube" | ".docker" | ".electrum" | ".ethereum" | ".bitcoin"
            ) && canary.starts_with(relative);
        (exact || holds).then_some(*secret)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_are_recognised_by_path_and_by_their_directories() {
        let home = "/home/user";
        assert_eq!(canary("/home/user/.npmrc", home), Some(Secret::NpmConfig));
        assert_eq!(canary("/home/user/.ssh", home), Some(Secret::SshKey));
        assert_eq!(
            canary("/home/user/.config/discord/Local Storage/leveldb", home),
            Some(Secret::Discord)
        );
        assert_eq!(canary("/home/user/.config", home), None, "too wide to say");
        assert_eq!(canary("/home/user/project/.npmrc", home), None);
        assert_eq!(canary("/etc/passwd", home), None);
    }
}
