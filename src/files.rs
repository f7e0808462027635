//! Opening and creating files in the state directory so that nothing planted there can
//! redirect, block or widen them: no symbolic link is followed, nothing but a regular file
//! is read or locked, no open waits for a FIFO's other end, and what ddns-cgi creates is
//! open to its owner and the state directory's group only, whatever the umask.
//!
//! The directory's own mode says who shares it: when the admin made it group-writable (a
//! setgid `2770` shared by the web server's user and a cron client's, say), files are
//! `0660` and directories `2770` of that group; otherwise `0600` and `0700`.

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

/// Who besides the owner may use what ddns-cgi creates in the state directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The owner only: files `0600`, directories `0700`.
    Private,
    /// The owner and this group (the state directory's): files `0660`, directories `2770`.
    Group(u32),
}

impl Access {
    /// What the state directory's mode asks for: a group-writable directory is shared with
    /// its group.
    pub fn of(state_dir: &Path) -> io::Result<Access> {
        let meta = fs::metadata(state_dir)?;
        Ok(if meta.mode() & 0o020 != 0 {
            Access::Group(meta.gid())
        } else {
            Access::Private
        })
    }

    /// The mode of a created file.
    pub fn file_mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Group(_) => 0o660,
        }
    }

    /// The mode of a created directory; setgid, so what is created inside keeps the group.
    pub fn dir_mode(self) -> u32 {
        match self {
            Access::Private => 0o700,
            Access::Group(_) => 0o2770,
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
/// or by hand is closed to them too.
pub fn ensure_dir(dir: &Path, access: Access) -> Result<(), FileError> {
    if dir_exists(dir)? {
        return close_to_others(&fs::metadata(dir)?, dir);
    }
    match fs::DirBuilder::new().mode(access.dir_mode()).create(dir) {
        // Made at the same moment by another request.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return ensure_dir(dir, access),
        other => other?,
    }
    if let Access::Group(gid) = access {
        // Best effort: a process outside that group cannot give the directory to it, and in
        // a setgid state directory the kernel already did. Before the mode: a change of
        // owner may clear the setgid bit.
        let _ = std::os::unix::fs::chown(dir, None, Some(gid));
    }
    fs::set_permissions(dir, Permissions::from_mode(access.dir_mode()))?;
    Ok(())
}

/// Removes the bits of others from an existing file or directory, if any. Best effort: in
/// a shared directory, it may be another user's.
fn close_to_others(meta: &fs::Metadata, path: &Path) -> Result<(), FileError> {
    let mode = meta.mode() & 0o7777;
    if mode & 0o007 != 0 {
        let _ = fs::set_permissions(path, Permissions::from_mode(mode & !0o007));
    }
    Ok(())
}

/// Gives a file this process just created its exact mode (the umask may have narrowed the
/// one asked for at creation) and the shared group.
fn set_access(file: &File, access: Access) -> io::Result<()> {
    if let Access::Group(gid) = access
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
    close_to_others(&file.metadata()?, path)?;
    Ok(file)
}

/// Opens a file for reading, None when it does not exist. Never waits (a FIFO is refused
/// at once) and never follows a link.
pub fn open_regular(path: &Path) -> Result<Option<File>, FileError> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(NO_FOLLOW | NO_WAIT)
        .open(path);
    match opened {
        Err(e) if e.kind() == NotFound => Ok(None),
        Err(e) => Err(open_error(path, e)),
        Ok(file) => regular(file).map(Some),
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
        let (_, a) = create_temp(&dir, ".t.", Access::Private).unwrap();
        let (_, b) = create_temp(&dir, ".t.", Access::Private).unwrap();
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
            open_regular(&dir.join("link")),
            Err(FileError::Link)
        ));
        assert!(matches!(
            open_lock(&dir.join("link"), Access::Private),
            Err(FileError::Link)
        ));
        assert!(matches!(open_regular(&dir.join("none")), Ok(None)));
        assert!(matches!(
            open_regular(&dir),
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
