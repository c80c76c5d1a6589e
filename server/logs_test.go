package server

import (
	"github.com/stripesql/stripesql/internal/testlog"

	"log/slog"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestLogrusHookLowersLevels(t *testing.T) {
	var buf testlog.Buffer
	hook := logrusHook{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	entry := func(level logrus.Level, msg string) *logrus.Entry {
		e := logrus.NewEntry(logrus.New()).WithField("connectionID", 7)
		e.Level, e.Message = level, msg
		return e
	}
	hook.Fire(entry(logrus.ErrorLevel, "broken"))
	hook.Fire(entry(logrus.InfoLevel, "NewConnection"))

	got := buf.String()
	for _, want := range []string{
		`level=WARN msg=broken connectionID=7`,
		`level=DEBUG msg=NewConnection connectionID=7`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %q:\n%s", want, got)
		}
	}
}
