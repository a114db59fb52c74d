//! What a value can carry, as the flow rules care: where data came from (the host,
//! its secrets, a file, the network) and what literals it was built from (a host
//! name, a credential path, a shell command).
//!
//! Kinds are bits of one `u64`, so that a value's kinds are a mask and propagation
//! over the flow graph is a few `or`s per edge.

/// One kind of value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub(crate) enum Kind {
    // What the data is.
    /// Who and which machine: hostname, user name, home directory, interfaces.
    Identity,
    /// Where the package runs: working directory, `__dirname`.
    Location,
    /// Platform, architecture, OS release: what installers use to pick binaries.
    System,
    /// The whole environment (`process.env` as one value).
    EnvAll,
    /// An environment variable named like a secret (`NPM_TOKEN`, `AWS_SECRET_…`).
    Secret,
    /// The installing package's own metadata (`package.json`, `npm_package_*`).
    PackageMeta,
    /// The contents of a credential file (`.npmrc`, `.ssh/`, cloud CLIs).
    Credential,
    /// Browser profiles: saved passwords, cookies, local storage.
    BrowserData,
    /// Wallet files, wallet extension stores, and key material in code.
    WalletData,
    /// Discord's token stores.
    DiscordData,
    /// The user's own documents: files on the desktop, in Documents, in OneDrive.
    UserFiles,
    /// System files that describe the host (`/etc/passwd`, shell history).
    SystemFile,
    /// Any other file's contents.
    FileContents,
    Clipboard,
    /// What a process printed.
    ProcessOutput,
    /// What came back from the network.
    NetworkResponse,
    /// A literal decoded at runtime (base64, hex, reversed, character codes).
    Decoded,
    /// What a client sent a server: a request's headers, body, query, cookies.
    RequestData,
    /// What a user typed into a page's form fields (`form.elements[i].value`).
    FormInput,

    // What the literals it was built from name.
    /// The configured registry (update checks, metadata).
    HostRegistry,
    /// Source hosting and vendors' download hosts.
    HostKnown,
    /// Request catchers, OAST, paste sites, chat webhooks, tunnels, file drops.
    HostExfil,
    /// Services that tell a machine its public IP and place.
    HostIpLookup,
    /// A public IP address written as the host.
    HostRawIp,
    /// Any other host written in the code.
    HostOther,
    /// Loopback, private ranges, reserved documentation domains.
    HostLocal,
    PathCredential,
    PathBrowser,
    PathWallet,
    PathDiscord,
    PathSystem,
    /// Places that make code run again: shell rc files, autostart, cron, workflows.
    PathPersistence,
    /// The user's home directory or a filesystem root.
    PathHome,
    /// A path inside the home directory, built from it and a named part
    /// (`join(homedir(), '.cache/x')`).
    PathInHome,
    /// The user's desktop, Documents, Pictures or OneDrive folders.
    PathUserFiles,
    PathTemp,
    /// A command that prints who or where the machine is (`whoami`, `hostname`).
    ReconCommand,
    /// A command line that runs a network tool (`curl`, `wget`, `nslookup`).
    NetworkTool,
}

impl Kind {
    pub(crate) const ALL: [Self; 38] = [
        Self::Identity,
        Self::Location,
        Self::System,
        Self::EnvAll,
        Self::Secret,
        Self::PackageMeta,
        Self::Credential,
        Self::BrowserData,
        Self::WalletData,
        Self::DiscordData,
        Self::UserFiles,
        Self::SystemFile,
        Self::FileContents,
        Self::Clipboard,
        Self::ProcessOutput,
        Self::NetworkResponse,
        Self::Decoded,
        Self::RequestData,
        Self::FormInput,
        Self::HostRegistry,
        Self::HostKnown,
        Self::HostExfil,
        Self::HostIpLookup,
        Self::HostRawIp,
        Self::HostOther,
        Self::HostLocal,
        Self::PathCredential,
        Self::PathBrowser,
        Self::PathWallet,
        Self::PathDiscord,
        Self::PathSystem,
        Self::PathPersistence,
        Self::PathHome,
        Self::PathInHome,
        Self::PathUserFiles,
        Self::PathTemp,
        Self::ReconCommand,
        Self::NetworkTool,
    ];

    pub(crate) const fn bit(self) -> Mask {
        Mask(1 << self as u8)
    }

    /// How a trail names the kind.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Identity => "host identity",
            Self::Location => "the install location",
            Self::System => "platform details",
            Self::EnvAll => "the whole environment",
            Self::Secret => "a secret from the environment",
            Self::PackageMeta => "the package's metadata",
            Self::Credential => "credential files",
            Self::BrowserData => "browser stores",
            Self::WalletData => "wallet keys",
            Self::DiscordData => "Discord tokens",
            Self::UserFiles => "the user's documents",
            Self::SystemFile => "system files",
            Self::FileContents => "file contents",
            Self::Clipboard => "the clipboard",
            Self::ProcessOutput => "command output",
            Self::NetworkResponse => "a network response",
            Self::Decoded => "decoded literals",
            Self::RequestData => "request data",
            Self::FormInput => "what users type into forms or press on the keyboard",
            Self::HostRegistry => "the registry",
            Self::HostKnown => "a known host",
            Self::HostExfil => "an exfiltration service",
            Self::HostIpLookup => "an IP-lookup service",
            Self::HostRawIp => "a raw IP address",
            Self::HostOther => "a hard-coded host",
            Self::HostLocal => "a local address",
            Self::PathCredential => "a credential path",
            Self::PathBrowser => "a browser profile path",
            Self::PathWallet => "a wallet path",
            Self::PathDiscord => "a Discord path",
            Self::PathSystem => "a system file path",
            Self::PathPersistence => "an autostart path",
            Self::PathHome => "the home directory",
            Self::PathInHome => "a path in the home directory",
            Self::PathUserFiles => "the user's documents folder",
            Self::PathTemp => "a temporary directory",
            Self::ReconCommand => "a reconnaissance command",
            Self::NetworkTool => "a network tool",
        }
    }
}

/// A set of kinds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Mask(pub(crate) u64);

impl Mask {
    pub(crate) const EMPTY: Self = Self(0);

    pub(crate) const fn of(kinds: &[Kind]) -> Self {
        let mut bits = 0;
        let mut index = 0;
        while index < kinds.len() {
            bits |= kinds[index].bit().0;
            index += 1;
        }
        Self(bits)
    }

    pub(crate) const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub(crate) const fn minus(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    pub(crate) const fn meet(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    pub(crate) const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) const fn has(self, kind: Kind) -> bool {
        self.0 & kind.bit().0 != 0
    }

    pub(crate) const fn any(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    pub(crate) fn kinds(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |kind| self.has(*kind))
    }
}

/// Data taken from the machine or its user.
pub(crate) const HOST_DATA: Mask = Mask::of(&[
    Kind::Identity,
    Kind::Location,
    Kind::EnvAll,
    Kind::Secret,
    Kind::Credential,
    Kind::BrowserData,
    Kind::WalletData,
    Kind::DiscordData,
    Kind::UserFiles,
    Kind::SystemFile,
    Kind::Clipboard,
]);

/// Hosts written in the code.
pub(crate) const HOSTS: Mask = Mask::of(&[
    Kind::HostRegistry,
    Kind::HostKnown,
    Kind::HostExfil,
    Kind::HostIpLookup,
    Kind::HostRawIp,
    Kind::HostOther,
    Kind::HostLocal,
]);

/// Hosts nobody but the package's author controls, or that take anyone's data.
pub(crate) const FOREIGN_HOSTS: Mask = Mask::of(&[
    Kind::HostExfil,
    Kind::HostIpLookup,
    Kind::HostRawIp,
    Kind::HostOther,
]);

/// Kinds that a one-way function (a hash, a signature, a derived address) does not
/// carry: key material turned into an address or a signature is not the key.
pub(crate) const LOST_THROUGH_CALLS: Mask = Mask::of(&[Kind::WalletData]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_fit_in_a_mask_and_round_trip() {
        assert!(Kind::ALL.len() <= 64);
        for (index, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index, "ALL is in declaration order");
            assert_eq!(kind.bit().kinds().collect::<Vec<_>>(), [kind]);
        }
        let mask = Mask::of(&[Kind::Identity, Kind::HostExfil]);
        assert!(mask.has(Kind::HostExfil) && !mask.has(Kind::Secret));
        assert!(mask.any(HOST_DATA) && mask.any(FOREIGN_HOSTS));
    }
}
