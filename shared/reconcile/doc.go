// Package reconcile is the daily reconciliation (ReconcileFunction): the
// payment provider's and the bank's statements of a Beijing day, line by
// line against the ledger and the payouts. It is apart from shared/jobs so
// that the other jobs' functions link no statement or blob code.
//
// # What it compares
//
// For the Beijing day before its scheduled time (PreviousDay) the job reads
// statements/payments/<day>.csv, the provider's trade bill (modelled on
// WeChat Pay's: order id, transaction id, settled amount, refund ids and
// amount, fee and status per line, backtick-prefixed values, a summary that
// must add up), and statements/bank/<day>.csv, the bank's payout transfers
// (both formats: shared/statements). It matches them line by line against
// the day's ledger entries and payouts (one GSI1 partition each) and
// records each difference as a discrepancy (domain.Reconcile):
// missing_on_ours, missing_on_theirs, amount_mismatch, status_mismatch. A
// discrepancy's id is derived from its line, so a rerun records nothing
// twice (already_recorded) and a resolved one stays resolved.
//
// # When a statement is missing
//
// A statement not yet delivered fails the run (statement_missing; a
// malformed one statement_malformed): Lambda retries, and the next day
// catches up only that day, so a missed day is rerun with an event of its
// time (the job reconciles the day before its time).
//
// # What it reports
//
// Each run prints the jobs' EMF line of counts (shared/jobs.WriteEMF: every
// outcome and every discrepancy kind, 0 on a quiet day, plus read,
// incomplete and duration), and for each statement it reconciled one EMF
// line per discrepancy kind: namespace microcert, metric discrepancies (0
// included), dimension sets [FunctionName] and [FunctionName, Source,
// Type]; the alarm watches the FunctionName one's Sum > 0. A statement that
// could not be reconciled reports no discrepancy count: an unknown is not a
// zero. The summary (the Lambda result) carries both sides' net totals and
// the provider's fees per source: on a clean day ours and theirs are equal.
package reconcile
