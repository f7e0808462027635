//! Exit statuses, from BSD `sysexits.h`, so cron wrappers and systemd units can tell a
//! temporary failure (retry) from one that needs the admin.

use crate::backend::BackendError;
use crate::core::Outcome;

/// How a run ended. When several apply, [`Status::worst`] picks by 78, 77, 1, 75.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: every selected host and family has the right address.
    Done,
    /// 1: a host needs the admin (`nohost`, `dnserr`).
    HostFailed,
    /// 64: the command line is wrong.
    Usage,
    /// 75: temporary; the next run retries.
    TempFail,
    /// 77: the registrar refused our credentials.
    NoPerm,
    /// 78: the configuration is wrong.
    Config,
}

impl Status {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Status::Done => 0,
            Status::HostFailed => 1,
            Status::Usage => 64,
            Status::TempFail => 75,
            Status::NoPerm => 77,
            Status::Config => 78,
        }
    }

    fn rank(self) -> u8 {
        match self {
            Status::Done => 0,
            Status::TempFail => 1,
            Status::HostFailed => 2,
            Status::NoPerm => 3,
            Status::Config => 4,
            Status::Usage => 5,
        }
    }

    /// The one of the two that wins.
    pub fn worst(self, other: Status) -> Status {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// What a host's outcome means for the run.
    pub fn of_outcome(outcome: Outcome) -> Status {
        match outcome {
            Outcome::Changed | Outcome::Unchanged => Status::Done,
            Outcome::Abuse | Outcome::ServerSide => Status::TempFail,
            Outcome::NotFqdn
            | Outcome::NotAllowed
            | Outcome::BadAddress
            | Outcome::NoZone
            | Outcome::NoRecord
            | Outcome::RoundRobin
            | Outcome::Alias
            | Outcome::NotPlain
            | Outcome::Rejected
            | Outcome::BadTtl => Status::HostFailed,
        }
    }

    /// What a registrar error means for the run.
    pub fn of_error(error: &BackendError) -> Status {
        match error {
            BackendError::CredentialsRejected { .. } => Status::NoPerm,
            BackendError::ZoneNotFound { .. }
            | BackendError::Rejected { .. }
            | BackendError::NotServed { .. } => Status::HostFailed,
            BackendError::Unreachable { .. }
            | BackendError::Timeout { .. }
            | BackendError::BadResponse { .. }
            | BackendError::RateLimited { .. }
            | BackendError::DiscoveryLimit { .. }
            | BackendError::NameServer { .. } => Status::TempFail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Status::*;

    #[test]
    fn config_beats_credentials_beats_hosts_beats_temporary() {
        assert_eq!(TempFail.worst(HostFailed), HostFailed);
        assert_eq!(HostFailed.worst(TempFail), HostFailed);
        assert_eq!(NoPerm.worst(HostFailed), NoPerm);
        assert_eq!(Config.worst(NoPerm), Config);
        assert_eq!(Done.worst(TempFail), TempFail);
        assert_eq!(Done.worst(Done).code(), 0);
    }
}
