// Package jobs holds microcert's two daily batch jobs, both run at 01:00 UTC
// (09:00 Beijing) by an EventBridge schedule:
//
//   - Reminders (ReminderFunction) reads RemindIndex (the certification's
//     remindAt) and sends the most urgent renewal milestone reached
//     (Rules.ReminderDays, 60, 30, 7 and 1 days before expiry by default):
//     one transaction writes the reminder mark (enterprise, type, cycle,
//     milestone), the notification and the certification with remindAt
//     moved to the next milestone;
//   - Expiry (ExpiryFunction) reads DueIndex: certifications past their
//     expiry become overdue (capabilities suspended) and, Rules.LapseAfterDays
//     later, lapsed, each with a history entry and a notification; cases'
//     pending micro-deposits and face or QR sessions past their deadline
//     expire, expired review claims are released (history; the claim stays
//     recorded), provisional review deadlines are recomputed on the calendar
//     in force, submitted or in-review cases past their deadline are marked
//     slaBreached, and the files of withdrawn or rejected cases whose
//     retention ended are tagged for the bucket's deletion rule.
//
// # Exactly once, at any table size
//
// Both read only the store's sparse due-time indexes for items due at or
// before "now" (never a Scan): an item is on an index only while work is
// pending, so a run reads the due items and nothing else, whatever the size
// of the table (TestJobsReadOnlyDueItems; BenchmarkJobsAtScale, run by make
// bench, at 10,000 and 50,000 certifications). Every write is conditional on
// the version read, and a reminder's mark is a create-only item keyed by
// certification, cycle and milestone, so a rerun, an overlapping run or a
// retry never sends a milestone twice (an existing mark counts as duplicate
// and only moves remindAt on). A renewal starts a new cycle: the old cycle's
// milestones are never due again. A conflict (someone else wrote first) is
// skipped; if the item is still due, the index brings it back.
//
// # Resumable
//
// Items are processed a page at a time, several at once; before each item
// the job checks the context's deadline and starts no new item within
// Config.SafetyMargin of it. An incomplete run or failed items make the
// handler return an error, so Lambda's retry (or the next day's run)
// finishes the rest; one failing item never stops the batch. Each run logs
// one "run summary" line and prints one CloudWatch Embedded Metric Format
// line (namespace microcert, dimension FunctionName) with a count per
// outcome, every outcome of the job included as 0 on a quiet day (handler.go,
// metricOrder; TestEveryOutcomeHasADailyZero), plus read, incomplete and
// duration; the expiry job adds the gauge calendar_days_left.
//
// # Which "now"
//
// The jobs know nothing of Lambda: "now" is a parameter of Run and the
// deadline comes from the context. The handler (handler.go) runs a job as of
// the scheduled event's time (an event without one: the clock), so
// Lambda's retries of an event redo the same day, and invoking a function
// with an event of another date runs the job as of that date (the handler
// logs a warning when that date is far from the clock).
package jobs
