package pipeline

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/chimed/chimed/internal/atomicfile"
	"github.com/chimed/chimed/internal/workspace"
)

// Lock is the one writer's hold on a workspace. Two commands writing one
// workspace at once delete each other's temporary files and fail with
// misleading errors, so every writing command takes it first. It is an
// advisory flock(2) on .chimed/lock: the kernel drops it when the process
// ends, however it ends, so a killed run never leaves a stale lock behind.
type Lock struct {
	f   *os.File
	own *os.File // a shard's own lock (TakeShardLock)
}

// LockedError says another process holds the workspace: its pid and command
// as it wrote them into the lock file, so the user knows what to wait for.
type LockedError struct {
	// Path is the lock file.
	Path string
	// PID and Command are the holder's; PID is 0 when the holder had not
	// written them yet.
	PID     int
	Command string
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("workspace is in use by another chimed process (lock %s); wait for it to finish", e.Path)
	}
	return fmt.Sprintf("workspace is in use by chimed %s (pid %d, lock %s); wait for it to finish", e.Command, e.PID, e.Path)
}

// LockPath is the workspace's lock file.
func LockPath(d workspace.Dir) string { return d.Path(".chimed", "lock") }

// TakeLock takes the workspace (an existing folder) for command without
// waiting: when another process holds it, the error is a *LockedError
// naming that process. The holder's pid and command are written into the
// lock file for the next comer to read. Release (or the process ending)
// gives the lock back. Exec takes it for every step it runs.
func TakeLock(d workspace.Dir, command string) (*Lock, error) {
	path := LockPath(d)
	// The workspace must exist (a mistyped -w is not made into a folder);
	// only its .chimed/ is created.
	if st, err := os.Stat(string(d)); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("workspace %s is not a folder: %w", string(d), cmp.Or(err, fs.ErrInvalid))
	}
	f, err := flockFile(path, unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	holder := fmt.Sprintf("%d %s\n", os.Getpid(), command)
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(holder), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("workspace lock %s: %w", path, err)
	}
	// Only the holder writes temporary files, so whatever is left in the
	// temporary folder is a killed run's and goes now, and so do the
	// half-written reports and completion records every step leaves beside
	// their final names (a step sweeps its own output folders itself).
	if err := os.RemoveAll(d.Tmp()); err != nil {
		f.Close()
		return nil, fmt.Errorf("workspace temporary folder: %w", err)
	}
	for _, dir := range []string{d.Reports(), d.Path(".chimed")} {
		if err := atomicfile.Sweep(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("sweeping a killed run's files: %w", err)
		}
	}
	return &Lock{f: f}, nil
}

// parseHolder reads "pid command" from a lock file's contents.
func parseHolder(b []byte) (pid int, command string) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	p, c, _ := strings.Cut(string(line), " ")
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 {
		return 0, ""
	}
	return n, c
}

// Release gives the workspace back. The lock file stays (removing it would
// race with a process that has just opened it); its contents are stale
// once the lock is free and are only read while it is held.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	if l.own != nil {
		err = errors.Join(err, l.own.Close())
		l.own = nil
	}
	return err
}

// TakeShardLock is TakeLock for one array task of a sharded step (name,
// "ingest-shard-0002-of-0007"): the workspace lock is held shared, so the
// shards run side by side while no other command writes the workspace,
// and .chimed/lock-<name> is held alone, so one shard never runs twice at
// once. flock(2) is only as good as the shared file system's support for
// it (NFSv4 and Lustre have it); the completion records are what a
// relaunch trusts.
func TakeShardLock(d workspace.Dir, name, command string) (*Lock, error) {
	shared, err := flockFile(LockPath(d), unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	own, err := flockFile(d.Path(".chimed", "lock-"+name), unix.LOCK_EX)
	if err != nil {
		shared.Close()
		return nil, err
	}
	holder := fmt.Sprintf("%d %s\n", os.Getpid(), command)
	if err := own.Truncate(0); err == nil {
		_, err = own.WriteAt([]byte(holder), 0)
	}
	return &Lock{f: shared, own: own}, nil
}

// flockFile opens path (creating .chimed/) and flocks it without waiting;
// when someone else holds it, the error is a *LockedError.
func flockFile(path string, how int) (*os.File, error) {
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("workspace lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("workspace lock: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		held := &LockedError{Path: path}
		if b, rerr := os.ReadFile(path); rerr == nil {
			held.PID, held.Command = parseHolder(b)
		}
		f.Close()
		return nil, held
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("workspace lock %s: %w", path, err)
	}
	return f, nil
}
