// Command local runs the system of template.yaml on this machine.
//
//	go run ./infra/local run     [-api 127.0.0.1:3000] [-s3 ...] [-dynamodb ...] [-state .local]
//	go run ./infra/local token   -role applicant|reviewer|admin -user <id> [-state .local]
//	go run ./infra/local invoke  -fn <LogicalId> -event events/<file>.json [-state .local]
//
// `make run`, `make token` and `make invoke` call these.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"microcert/infra/localstack"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "token":
		err = token(os.Args[2:])
	case "invoke":
		err = invoke(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: local run|token|invoke [flags] (-h for the flags)")
	os.Exit(2)
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	api := fs.String("api", "127.0.0.1:3000", "address of the HTTP API")
	s3 := fs.String("s3", "127.0.0.1:3001", "address of the local S3 (versitygw)")
	ddb := fs.String("dynamodb", "127.0.0.1:3002", "address of the local DynamoDB (minidyn)")
	state := fs.String("state", ".local", "state folder: table snapshot, files, logs, issuer key")
	pool := fs.Int("pool", 2, "emulators per function (concurrent invokes)")
	apiPool := fs.Int("api-pool", 4, "emulators of ApiFunction")
	noSched := fs.Bool("no-schedules", false, "do not fire the scheduled functions")
	verbose := fs.Bool("v", false, "also print the stack's own logs on stderr")
	_ = fs.Parse(args)

	start := time.Now()
	if err := os.MkdirAll(filepath.Join(*state, "logs"), 0o755); err != nil {
		return err
	}
	logFile, err := os.OpenFile(filepath.Join(*state, "logs", "stack.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	var w io.Writer = logFile
	if *verbose {
		w = io.MultiWriter(logFile, os.Stderr)
	}
	logger := slog.New(slog.NewJSONHandler(w, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	binDir := filepath.Join("bin", "lambda")
	if err := localstack.Build(ctx, ".", binDir); err != nil {
		return err
	}
	logger.Info("bootstraps built", "dir", binDir, "took", time.Since(start).String())

	st, err := localstack.Start(ctx, localstack.Options{
		RepoRoot:         ".",
		StateDir:         *state,
		BinDir:           binDir,
		APIAddr:          *api,
		S3Addr:           *s3,
		DynamoDBAddr:     *ddb,
		PoolSize:         *pool,
		PoolSizes:        map[string]int{"ApiFunction": *apiPool},
		DisableSchedules: *noSched,
		Logger:           logger,
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s  [%.1fs]\n", st.ReadyLine(), time.Since(start).Seconds())
	<-ctx.Done()
	stop() // a second Ctrl-C kills at once
	fmt.Fprintln(os.Stderr, "stopping: snapshot of the table, then every child process")
	return st.Close()
}

func token(args []string) error {
	fs := flag.NewFlagSet("token", flag.ExitOnError)
	role := fs.String("role", "applicant", "applicant, reviewer or admin")
	user := fs.String("user", "user-1", "the user id (sub)")
	ttl := fs.Duration("ttl", 12*time.Hour, "validity")
	state := fs.String("state", ".local", "state folder holding the issuer key")
	_ = fs.Parse(args)
	if !slices.Contains(localstack.Roles, *role) {
		return fmt.Errorf("role %q: want one of %v", *role, localstack.Roles)
	}
	iss, err := localstack.OpenIssuer(*state)
	if err != nil {
		return err
	}
	tok, err := iss.Token(*role, *user, localstack.WithTTL(*ttl))
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}

func invoke(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ExitOnError)
	fn := fs.String("fn", "", "the function's logical id, e.g. ReminderFunction")
	eventFile := fs.String("event", "", "event JSON file, e.g. events/schedule-reminder.json")
	state := fs.String("state", ".local", "state folder (the running stack's, if one runs)")
	_ = fs.Parse(args)
	if *fn == "" || *eventFile == "" {
		return errors.New("invoke wants -fn and -event")
	}
	event, err := os.ReadFile(*eventFile)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	binDir := filepath.Join("bin", "lambda")
	if err := localstack.Build(ctx, ".", binDir); err != nil {
		return err
	}
	out, err := localstack.RunOnce(ctx, localstack.Options{RepoRoot: ".", StateDir: *state, BinDir: binDir}, *fn, event)
	if len(out) > 0 {
		fmt.Println(string(out))
	}
	if err != nil {
		return err
	}
	if _, running := localstack.Running(*state); !running {
		fmt.Fprintln(os.Stderr, "(no stack was running: started one on", *state, "for this call; logs in", filepath.Join(*state, "logs", *fn+".log")+")")
	}
	return nil
}
