package config

import (
	"log/slog"
	"os"

	"microcert/shared/domain"
)

// Rules returns the domain rules with this configuration's overrides.
func (c Config) Rules() (domain.Rules, error) {
	r := domain.DefaultRules.Clone()
	if c.ClaimTTL > 0 {
		r.ClaimTTL = c.ClaimTTL
	}
	if c.RetentionDays > 0 {
		r.RetentionDays = c.RetentionDays
	}
	if len(c.ReminderMilestone) > 0 {
		r.ReminderDays = c.ReminderMilestone
	}
	if c.WebhookRetryFor > 0 {
		r.WebhookRetry.GiveUpAfter = c.WebhookRetryFor
	}
	if c.WebhookRetryFirst > 0 {
		r.WebhookRetry.First = c.WebhookRetryFirst
		r.WebhookRetry.Max = max(r.WebhookRetry.Max, c.WebhookRetryFirst)
	}
	return r, r.Validate()
}

// MustLoad is what every function does at init: read the configuration and
// the rules once, or log why not and exit (Lambda then reports an init
// error instead of serving with a half-read configuration).
func MustLoad(log *slog.Logger) (Config, domain.Rules) {
	cfg, err := Load()
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	rules, err := cfg.Rules()
	if err != nil {
		log.Error("rules", "err", err)
		os.Exit(1)
	}
	return cfg, rules
}
