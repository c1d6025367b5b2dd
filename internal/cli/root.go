// Package cli is the vigil command line: one file per command group, text
// output for people and --json for programs, and the exit codes of
// docs/cli.md (0 ok, 1 error, 2 usage, 3 findings). It is the only package
// that wires subsystems together.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitFindings = 3
)

// env is what commands share: streams, the database path, the logger.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	db             string
	logLevel       string
	log            *slog.Logger
	// stderrTTY reports whether stderr is a terminal (for progress bars).
	stderrTTY bool
}

// usageError marks errors that should exit with ExitUsage.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitError carries a specific exit code with an already-printed outcome.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run runs the command line with the given arguments (without the program
// name) and streams. Tests call it directly.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, stderrTTY: isTerminal(stderr)}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "vigil:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitError
}

// isCobraUsage recognizes cobra's own argument and flag errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Adaptive Zero Trust defense: identity threat detection and response",
		Long: `Vigil reads identity and cloud audit logs in their vendors' own formats (Okta,
Microsoft Entra ID, AWS CloudTrail, Azure Activity Log, Google Workspace, OCSF),
normalizes them into one identity event model and stores them for detection.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(e.logLevel)); err != nil {
				return usagef("--log-level: %v", err)
			}
			e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&e.db, "db", defaultDB(), "database file (env VIGIL_DB)")
	root.PersistentFlags().StringVar(&e.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.AddCommand(newVersionCmd(e), newIngestCmd(e), newEventsCmd(e), newQuarantineCmd(e), newDetectCmd(e), newRulesCmd(e), newSimulateCmd(e), newServeCmd(e), newTokenCmd(e), newAuditCmd(e), newRespondCmd(e), newBenchCmd(e), newDemoCmd(e))
	return root
}

// defaultDB is $VIGIL_DB, else vigil.db in the user's data directory.
func defaultDB() string {
	if p := os.Getenv("VIGIL_DB"); p != "" {
		return p
	}
	return filepath.Join(dataDir(), "vigil", "vigil.db")
}

// dataDir follows each platform's convention for application data.
func dataDir() string {
	home, _ := os.UserHomeDir()
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LOCALAPPDATA"); d != "" {
			return d
		}
	case "darwin":
		return filepath.Join(home, "Library", "Application Support")
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return d
	}
	if home == "" {
		return "."
	}
	return filepath.Join(home, ".local", "share")
}
