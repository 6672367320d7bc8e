// Package logging builds the JSON slog logger every function uses. Besides
// formatting, it is the last line of defence for privacy: any string that
// looks like a resident ID number, a mainland mobile number or a bank
// account number is masked before it is written, whatever logged it.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// New returns a JSON logger for a function writing to stdout (CloudWatch).
func New(function string) *slog.Logger {
	return NewTo(os.Stdout, function, levelFrom(os.Getenv("LOG_LEVEL")))
}

// NewTo is New with an explicit writer and level (tests).
func NewTo(w io.Writer, function string, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: scrubAttr})
	return slog.New(h).With("function", function)
}

func levelFrom(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// sensitive matches, in order: 18-character resident IDs, 11-digit mobile
// numbers (optionally +86), and runs of 12+ digits (bank accounts). Digit
// runs are bounded by non-digits so timestamps and ids are left alone.
// It is compiled on first use, not at init: cold starts pay for no regexp.
var sensitive = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(^|[^0-9])(\d{17}[0-9x]|(?:\+?86)?1[3-9]\d{9}|\d{12,30})([^0-9]|$)`)
})

// Scrub masks sensitive numbers in s.
func Scrub(s string) string {
	if !hasLongDigitRun(s) {
		return s
	}
	re := sensitive()
	return re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatch(m)
		return sub[1] + mask(sub[2]) + sub[3]
	})
}

// hasLongDigitRun is a cheap pre-check so ordinary lines skip the regexp.
func hasLongDigitRun(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run >= 11 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func mask(v string) string {
	if len(v) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(v)-4) + v[len(v)-4:]
}

func scrubAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); hasLongDigitRun(s) {
			return slog.String(a.Key, Scrub(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, Scrub(err.Error()))
		}
	}
	return a
}

// ForInvocation returns log with the Lambda invocation's request id, so every
// line of one invoke can be found together.
func ForInvocation(ctx context.Context, log *slog.Logger) *slog.Logger {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return log.With("awsRequestId", lc.AwsRequestID)
	}
	return log
}
