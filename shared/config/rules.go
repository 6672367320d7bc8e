package config

import "microcert/shared/domain"

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
	return r, r.Validate()
}
