//! Opening and creating files in the state directory so that nothing planted there can
//! redirect, block or widen them: no symbolic link is followed, nothing but a regular file
//! is read or locked, no open waits for a FIFO's other end, and what ddns-cgi creates is
//! open to its owner and the state directory's group only, whatever the umask.
//!
//! The directory's own mode says who shares it: when the admin made it group-writable (a
//! setgid `2770` shared by the web server's user and a cron client's, say), files are
//! `0660` and directories `2770` of that group; otherwise `0600` and `0700`.
//!
//! What is found inside must have been made by someone allowed to: the state directory's
//! owner, root, or (when it is shared) a member of its group. A state directory every local
//! user may write is refused outright, since anyone could then plant or replace what is in
//! it; so is anything inside owned by somebody else.

use std::fs::{self, File, FileType, OpenOptions, Permissions};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io::{
    self,
    ErrorKind::{NotADirectory, NotFound},
};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Opening a symbolic link fails instead of opening its target.
const NO_FOLLOW: i32 = libc::O_NOFOLLOW;
/// Opening a FIFO returns at once instead of waiting for a writer; reads and writes of
/// regular files are not affected.
const NO_WAIT: i32 = libc::O_NONBLOCK;

/// The mode of a state directory ddns-cgi makes itself.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Who may use what ddns-cgi creates in the state directory, and whose files it trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The state directory's owner.
    owner: u32,
    /// The state directory's group, when the directory is group-writable: what is created
    /// is `0660` (directories `2770`) of that group, else `0600` (`0700`).
    group: Option<u32>,
}

impl Access {
    /// What the state directory's mode asks for: a group-writable directory is shared with
    /// its group. One that every local user may write is refused.
    pub fn of(state_dir: &Path) -> Result<Access, FileError> {
        let meta = fs::metadata(state_dir)?;
        if meta.mode() & 0o002 != 0 {
            return Err(FileError::OpenToAll);
        }
        Ok(Access {
            owner: meta.uid(),
            group: (meta.mode() & 0o020 != 0).then_some(meta.gid()),
        })
    }

    /// Private to `owner`.
    pub fn private(owner: u32) -> Access {
        Access { owner, group: None }
    }

    /// The mode of a created file.
    pub fn file_mode(self) -> u32 {
        match self.group {
            None => 0o600,
            Some(_) => 0o660,
        }
    }

    /// The mode of a created directory; setgid, so what is created inside keeps the group.
    pub fn dir_mode(self) -> u32 {
        match self.group {
            None => PRIVATE_DIR_MODE,
            Some(_) => 0o2770,
        }
    }

    /// Refuses what somebody else made: only the state directory's owner, root and (in a
    /// shared directory) its group may have put a file or directory there.
    fn check_owner(self, meta: &fs::Metadata) -> Result<(), FileError> {
        let uid = meta.uid();
        if uid == self.owner || uid == 0 || self.group == Some(meta.gid()) {
            Ok(())
        } else {
            Err(FileError::Stranger { uid })
        }
    }
}

/// Why a path in the state directory was not used.
#[derive(Debug)]
pub enum FileError {
    /// The OS refused.
    Io(io::Error),
    /// A symbolic link, which is never followed: one planted there could make ddns-cgi
    /// read or write a file elsewhere.
    Link,
    /// The state directory can be written by every local user, who could then plant or
    /// replace anything in it.
    OpenToAll,
    /// Owned by a user who is neither the state directory's owner, root, nor (in a shared
    /// directory) of its group: planted by somebody else.
    Stranger {
        /// The owner.
        uid: u32,
    },
    /// Something other than what belongs there.
    Kind {
        /// What is there ("a FIFO").
        found: &'static str,
        /// What belongs there ("a regular file").
        wanted: &'static str,
    },
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Io(e) => write!(f, "cannot be opened ({e})"),
            FileError::Link => write!(f, "is a symbolic link"),
            FileError::OpenToAll => write!(
                f,
                "is writable by every local user, who could plant or replace its files (run chmod o-w on it)"
            ),
            FileError::Stranger { uid } => write!(
                f,
                "is owned by uid {uid}, who is neither the state directory's owner, root nor of its group"
            ),
            FileError::Kind { found, wanted } => write!(f, "is {found}, not {wanted}"),
        }
    }
}

impl From<io::Error> for FileError {
    fn from(e: io::Error) -> FileError {
        FileError::Io(e)
    }
}

/// What a file type is called in a message.
fn kind(t: FileType) -> &'static str {
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "an unknown kind of file"
    }
}

/// Whether `path` is a real directory (not a link to one); false when it does not exist,
/// or a part of the path is no directory.
pub fn dir_exists(path: &Path) -> Result<bool, FileError> {
    match fs::symlink_metadata(path) {
        Err(e) if matches!(e.kind(), NotFound | NotADirectory) => Ok(false),
        Err(e) => Err(e.into()),
        Ok(m) if m.file_type().is_symlink() => Err(FileError::Link),
        Ok(m) if !m.is_dir() => Err(FileError::Kind {
            found: kind(m.file_type()),
            wanted: "a directory",
        }),
        Ok(_) => Ok(true),
    }
}

/// Makes `dir` (whose parent exists) a directory with `access`'s mode. One that already
/// exists keeps its mode, less what others may do: a directory made by an older version
/// or by hand is closed to them too. One somebody else made is refused.
pub fn ensure_dir(dir: &Path, access: Access) -> Result<(), FileError> {
    if dir_exists(dir)? {
        return check_dir(dir, access);
    }
    match fs::DirBuilder::new().mode(access.dir_mode()).create(dir) {
        // Made at the same moment by another request.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return ensure_dir(dir, access),
        other => other?,
    }
    if let Some(gid) = access.group {
        // Best effort: a process outside that group cannot give the directory to it, and in
        // a setgid state directory the kernel already did. Before the mode: a change of
        // owner may clear the setgid bit.
        let _ = std::os::unix::fs::chown(dir, None, Some(gid));
    }
    fs::set_permissions(dir, Permissions::from_mode(access.dir_mode()))?;
    Ok(())
}

/// Checks an existing directory through a descriptor of its own, so the checks and the
/// change of mode all apply to the directory itself, whatever is renamed meanwhile: it
/// must be trusted ([`Access::check_owner`]), and it is closed to others.
pub fn check_dir(dir: &Path, access: Access) -> Result<(), FileError> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(NO_FOLLOW | libc::O_DIRECTORY)
        .open(dir)
        .map_err(|e| open_error(dir, e))?;
    let meta = opened.metadata()?;
    access.check_owner(&meta)?;
    let meta = open_to_group(&opened, meta, access.dir_mode(), access)?;
    close_to_others(&opened, &meta)
}

/// In a shared state directory, gives an existing file or directory the group's access when
/// it lacks it: one made before the admin shared the directory is still its maker's alone,
/// and the other user could neither lock it nor read it. Best effort: only its owner (or
/// root) can change it, and a file with two names is left alone.
/// Gives the metadata as it is afterwards.
fn open_to_group(
    file: &File,
    meta: fs::Metadata,
    mode: u32,
    access: Access,
) -> io::Result<fs::Metadata> {
    let Some(gid) = access.group else {
        return Ok(meta);
    };
    let current = meta.mode() & 0o7777;
    if (meta.gid() == gid && current & mode == mode) || (!meta.is_dir() && meta.nlink() != 1) {
        return Ok(meta);
    }
    // The group first: a change of group may clear the setgid bit.
    let _ = std::os::unix::fs::fchown(file, None, Some(gid));
    let _ = file.set_permissions(Permissions::from_mode(mode | (current & 0o0700)));
    file.metadata()
}

/// Removes the bits of others from an existing file or directory opened as `file`, if any.
/// A file with more than one name is left as it is: the change would reach its other names
/// too. Best effort: in a shared directory, it may be another user's; but one that others
/// could then still write is refused.
fn close_to_others(file: &File, meta: &fs::Metadata) -> Result<(), FileError> {
    let mode = meta.mode() & 0o7777;
    if mode & 0o007 == 0 {
        return Ok(());
    }
    let single = meta.is_dir() || meta.nlink() == 1;
    let closed = single
        && file
            .set_permissions(Permissions::from_mode(mode & !0o007))
            .is_ok();
    if !closed && mode & 0o002 != 0 {
        return Err(FileError::OpenToAll);
    }
    Ok(())
}

/// Gives a file this process just created its exact mode (the umask may have narrowed the
/// one asked for at creation) and the shared group.
fn set_access(file: &File, access: Access) -> io::Result<()> {
    if let Some(gid) = access.group
        && file.metadata()?.gid() != gid
    {
        // Best effort, as for directories.
        let _ = std::os::unix::fs::fchown(file, None, Some(gid));
    }
    file.set_permissions(Permissions::from_mode(access.file_mode()))
}

/// 64 bits nobody else can predict. std's `RandomState` keys SipHash with 128 bits the
/// OS's random source gave this process, so its hash of anything is unpredictable without
/// those keys; the counter, process id and clock only make each call's input new.
fn unpredictable() -> u64 {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(now);
    hasher.finish()
}

/// Creates a new file `PREFIX<random>.tmp` in `dir` for writing: never an existing file,
/// never through a link (`O_EXCL`, `O_NOFOLLOW`), so a name planted in advance cannot be
/// used to redirect the write.
pub fn create_temp(dir: &Path, prefix: &str, access: Access) -> io::Result<(File, PathBuf)> {
    let mut attempts = 0;
    loop {
        let path = dir.join(format!("{prefix}{:016x}.tmp", unpredictable()));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(access.file_mode())
            .custom_flags(NO_FOLLOW)
            .open(&path);
        match opened {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 8 => attempts += 1,
            Err(e) => return Err(e),
            Ok(file) => {
                if let Err(e) = set_access(&file, access) {
                    let _ = fs::remove_file(&path);
                    return Err(e);
                }
                return Ok((file, path));
            }
        }
    }
}

/// The error of an open that failed: a link where a file should be is named as such.
fn open_error(path: &Path, e: io::Error) -> FileError {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => FileError::Link,
        _ => FileError::Io(e),
    }
}

/// Refuses anything opened that is not a regular file.
fn regular(file: File) -> Result<File, FileError> {
    let t = file.metadata()?.file_type();
    if t.is_file() {
        Ok(file)
    } else {
        Err(FileError::Kind {
            found: kind(t),
            wanted: "a regular file",
        })
    }
}

/// Opens a lock file for locking, creating it when missing. Only a regular file is
/// locked; an existing one is closed to others as [`ensure_dir`] does.
pub fn open_lock(path: &Path, access: Access) -> Result<File, FileError> {
    let mut options = OpenOptions::new();
    options
        .write(true)
        .mode(access.file_mode())
        .custom_flags(NO_FOLLOW | NO_WAIT);
    match options.clone().create_new(true).open(path) {
        Ok(file) => {
            set_access(&file, access)?;
            return regular(file);
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(open_error(path, e)),
    }
    let file = regular(options.open(path).map_err(|e| open_error(path, e))?)?;
    let meta = file.metadata()?;
    access.check_owner(&meta)?;
    let meta = open_to_group(&file, meta, access.file_mode(), access)?;
    close_to_others(&file, &meta)?;
    Ok(file)
}

/// Opens a file for reading, None when it does not exist. Never waits (a FIFO is refused
/// at once), never follows a link, and refuses a file somebody else made.
pub fn open_regular(path: &Path, access: Access) -> Result<Option<File>, FileError> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(NO_FOLLOW | NO_WAIT)
        .open(path);
    match opened {
        Err(e) if e.kind() == NotFound => Ok(None),
        Err(e) => Err(open_error(path, e)),
        Ok(file) => {
            let file = regular(file)?;
            let meta = file.metadata()?;
            access.check_owner(&meta)?;
            open_to_group(&file, meta, access.file_mode(), access)?;
            Ok(Some(file))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ddns-files-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn temp_names_differ_and_never_reuse_a_planted_one() {
        let dir = scratch("temp");
        let (_, a) = create_temp(&dir, ".t.", Access::private(0)).unwrap();
        let (_, b) = create_temp(&dir, ".t.", Access::private(0)).unwrap();
        assert_ne!(a, b);
        let mode = fs::metadata(&a).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o600);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn links_and_fifos_are_refused_without_waiting() {
        let dir = scratch("kinds");
        let target = dir.join("target");
        fs::write(&target, "x").unwrap();
        std::os::unix::fs::symlink(&target, dir.join("link")).unwrap();
        assert!(matches!(
            open_regular(&dir.join("link"), Access::private(0)),
            Err(FileError::Link)
        ));
        assert!(matches!(
            open_lock(&dir.join("link"), Access::private(0)),
            Err(FileError::Link)
        ));
        assert!(matches!(
            open_regular(&dir.join("none"), Access::private(0)),
            Ok(None)
        ));
        assert!(matches!(
            open_regular(&dir, Access::private(0)),
            Err(FileError::Kind {
                found: "a directory",
                ..
            })
        ));
        assert!(matches!(
            dir_exists(&dir.join("link")),
            Err(FileError::Link)
        ));
        assert_eq!(fs::read_to_string(&target).unwrap(), "x");
        let _ = fs::remove_dir_all(&dir);
    }
}
