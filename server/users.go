package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
)

// usersFileMode keeps the accounts file to the server's own user: it holds
// password hashes, which are enough to log in with mysql_native_password.
const usersFileMode = 0o600

// filePersister writes GMS's privilege tables (users, grants, roles) to a
// file on every CREATE USER, GRANT, REVOKE, DROP USER, ALTER USER and SET
// PASSWORD. It writes a new file and renames it over the old one, so a
// crash leaves the old accounts or the new ones, never half of each.
type filePersister struct{ path string }

func (p filePersister) Persist(_ *sql.Context, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(p.path), "."+filepath.Base(p.path)+".*")
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	// CreateTemp makes the file 0600; say so anyway, as the mode is the point.
	if err := tmp.Chmod(usersFileMode); err != nil {
		tmp.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("users file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	if err := os.Rename(tmp.Name(), p.path); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	return nil
}

// enableAuth turns on GMS's privilege system. An enabled mysql_db is what
// makes GMS check passwords at all; with it disabled any user and password
// get in.
//
// The accounts created through SQL live in usersFile if it is set (read
// now, rewritten on every change), else in memory only. The configured
// user is an all-powerful account made afresh at every start and never
// written to the file, so its password is always the configured one.
func enableAuth(engine *sqle.Engine, user, password, usersFile string) error {
	mdb := engine.Analyzer.Catalog.MySQLDb
	// Without a persister, GMS panics on the first CREATE USER or GRANT.
	var persister mysql_db.MySQLDbPersistence = &mysql_db.NoopPersister{}
	if usersFile != "" {
		data, err := readUsersFile(usersFile)
		if err != nil {
			return err
		}
		if err := mdb.LoadData(sql.NewEmptyContext(), data); err != nil {
			return fmt.Errorf("users file %s: %w", usersFile, err)
		}
		persister = filePersister{path: usersFile}
	}
	mdb.SetPersister(persister)
	ed := mdb.Editor()
	defer ed.Close()
	// A stored account of the same name would shadow the configured one.
	ed.RemoveUser(mysql_db.UserPrimaryKey{Host: "%", User: user})
	mdb.AddEphemeralSuperUser(ed, user, "%", password)
	if usersFile != "" {
		// Create the file now, so its mode is set before any account exists
		// and a bad path fails the start rather than the first GRANT.
		if err := mdb.Persist(sql.NewEmptyContext(), ed); err != nil {
			return err
		}
	}
	return nil
}

// readUsersFile reads the accounts file; a missing one is an empty one. A
// file others can read is refused: it holds password hashes.
func readUsersFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("users file %s is readable or writable by others (mode %v): it holds password hashes; chmod 600 it", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	return data, nil
}
