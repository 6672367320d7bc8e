// Package certsvc holds the use cases of microcert: what happens when an
// applicant opens a case, a provider calls back, a reviewer decides. It
// applies the domain's rules and writes through a Store, one atomic Change
// per use case. It knows nothing of HTTP or AWS: the HTTP layer is
// shared/httpapi, the bucket is reached through blob's values.
//
// # One write path
//
// Every write of a versioned entity (enterprise, case, certification, the
// deposit log) reads, applies a domain function to a copy, and writes on
// condition that the version read is still stored (domain.NextVersion is
// the one place a version advances; writepath.go). When the condition fails
// because someone else wrote in between (the document check of a fresh
// upload, a provider callback, a job, the app's own parallel call) the
// whole cycle runs again on a fresh read (shared/optimistic: at most 8
// times, with full-jitter pauses of 4 ms doubling to 120 ms). A client that
// sent no version therefore never sees a conflict it did not cause; a
// client that sent a stale one gets version_conflict with currentVersion
// (review decisions always send one: the reviewer decided on what they
// read).
//
// An Idempotency-Key replays only what would always be answered again: 2xx
// and the 4xx of an invalid, forbidden or unknown request. A 409, 429 or
// 5xx is never stored: the key is released and the retry runs again
// (shared/httpapi/idempotency.go).
//
// # Rules per enterprise, across its cases
//
// A rule kept on one request or one case is escaped by another request or
// another case, so these hold per enterprise, in items of the enterprise's
// own partition read with the profile in the same Query
// (domain/perenterprise.go):
//
//   - one open case per (enterprise, type), and one open change case: slot
//     items taken in the transaction that creates the case and released in
//     the one that closes it (case_already_open with openCaseId; of two
//     racing creations one case is left);
//   - micro-deposits: at most Rules.DepositsPerWindow per enterprise in any
//     Rules.DepositWindow, none during Rules.DepositLockCooldown after a
//     lock, at most Rules.DepositAttempts wrong amounts per deposit (the
//     versioned deposit log, written with the case: deposit_limit_reached /
//     verification_locked with nextDepositAt);
//   - the account holder is the enterprise (domain.SameRegisteredName:
//     account_name_mismatch), and PATCH cannot escape a lock by giving the
//     account up during the cool-down (verification_locked).
//
// Verifications are bound to what they verified: a face or QR session
// records the legal rep it verifies (domain.LegalRepFingerprint), and a
// pass for someone who is no longer the legal rep on record is due again
// (legal_rep_changed); a verified deposit counts only while its holder name
// is the registered name.
//
// Changes of a certified enterprise go through review: while a
// certification is active or overdue, PATCH of the name, legal rep,
// addresses or the corporate account is change_requires_review; a change
// case (kind change) carries the new values, needs what they need (a new
// license, the new legal rep's ID card and face, the account proof and
// micro-deposit, or QR and premises video), is free, and on approval
// writes the profile in the decision's transaction while the
// certifications stay active.
//
// A request for changes names what to redo (redo_required otherwise); each
// item is due again, with its reason and note, until it is done again after
// the request. Approval derives the requirements again from what it reads:
// anything due is requirements_unmet.
//
// # Review and lifecycle
//
// Reviewers work a queue (QueueIndex, earliest review deadline first, each
// item with its SLA state in Chinese working days). A claim moves a case
// from submitted to in_review for Rules.ClaimTTL; while another reviewer's
// claim holds, a claim gets case_claimed with claimExpiresAt; an expired
// claim may be taken over at once (history: in_review -> in_review,
// claim_expired); the holder claiming again extends it. Of two racing
// claims one wins. Nobody claims, decides or reveals for an enterprise they
// own (own_case).
//
// Only the holder of a live claim decides (claim_required, case_claimed),
// with the version read (version_conflict). reject and request_changes need
// reasons (reasons_required, unknown_reason: domain/reasons.go); after
// Rules.MaxChangeRequests requests only approve and reject are left;
// rejected is final. All writes of a decision are one domain.Change under
// the case's version: the case (status, last decision, claim released, so
// it leaves the queue); on approval one certification per type from
// domain.ApproveCertification (initial: a year to the end of the Beijing
// day; annual review: extended from the old expiry; reinstatement: a year
// from now; appeal: the original expiry if still ahead), each written
// under its own version so a concurrent cancel or revoke fails the whole
// decision, with its next reminder scheduled; the history entries (the
// case's, and each certification's under the enterprise and the case); a
// notification with the outcome and each reason's advice; on rejection
// the documents' retention (Rules.RetentionDays). There is never an
// approved case with a missing certificate, and of two racing decisions
// exactly one commits.
//
// Reviewers see what applicants do not: the holder of a live claim may
// reveal the legal rep's ID number and phone in the clear, each reveal
// audited under the case before anything is shown and never stored for an
// Idempotency-Key replay (reviewctx.go); a staff view of an appeal carries
// the revocations under appeal and the enterprise's earlier violations.
// Applicants never see a reviewer's account: claimedBy and the actor ids of
// staff entries are left out of their views.
//
// Cancel (the owner) and revoke (admins, with a severity) first apply any
// expiry or lapse the daily job has not written yet (Certification.Advance),
// then move the certification with its history and a notification in one
// transaction; capabilities follow the effective status (overdue suspends,
// lapsed, cancelled and revoked remove them). The ways back are ordinary
// cases through the same queue: an appeal of a revoked type (free; the
// rectification proof and an explanation), a reinstatement of a lapsed one
// (the fee and the full materials), an annual review from three months
// before expiry, and a new initial case after a cancellation.
//
// # People: members, roles, agents
//
// Several users work for one enterprise, each a member with one role
// (owner, admin, operator, viewer, agent); what a role may do is one table
// (domain/members.go, rolePermissions) and one function decides every
// access, domain.Authorize, called in the read step of the write path
// (readCase, enterpriseAs) from the members read with the enterprise's
// state: another enterprise's objects are not_found, a member whose role
// lacks the permission insufficient_role, staff who are not members may
// read. A download is authorized from the document alone: its audit is
// committed with a ConditionCheck on the caller's membership
// (domain.ReadCheck), one read and one write.
//
// Invitations (members.go) are items of the enterprise's partition: a code
// "<enterpriseId>.<secret>" is shown once; the invitation's id is the hash
// of the secret, so the code finds it in the state and cannot be rebuilt
// from what is stored. Redeeming takes the invitation under its version
// (of two racing redemptions one joins); malformed, unknown, used, revoked
// and expired codes are one answer. The owner is the profile's OwnerID and
// a member with role owner: never removed nor demoted, only transferred (the
// profile and both memberships in one transaction). Every change is in the
// enterprise's history with the actor's member role, and notified.
//
// A service agent opens only cases via itself (Case.AgentID), works only on
// those, and never starts the legal rep's face or QR session: the session
// is bound to the legal rep on record (LegalRepFingerprint) and started by
// a member of the enterprise, so the agent never holds it.
//
// # Disputes of a registered USCC
//
// Registration proves nothing, so a USCC can be won back (disputes.go,
// domain/dispute.go). OpenDispute creates the claimant's own profile,
// frozen and without the USCC's claim, with a case of kind dispute (free;
// the license, the legal rep's ID card and face verification). Submitting
// takes the USCC's lock (the claim item's disputeCaseId): one dispute per
// USCC in review; drafts hold nothing, and the lock is given up when the
// case leaves review other than by approval (domain.DisputeLockWrites, in
// caseChange). A reviewer reads both profiles' states by key in one
// BatchGetItem; a holder with a certification in force loses its USCC only
// by an admin's decision. Winning (winDispute) is one transaction: the claim
// moves to the claimant (on condition that the holder holds it and this
// dispute the lock), the claimant's profile is unfrozen, the holder's
// frozen, its certifications in force revoked, its open cases withdrawn
// (read with one more BatchGetItem; a paid case no reviewer had taken is
// marked refundDue, as any withdrawal), and it is notified. A rejected or
// withdrawn dispute leaves the claimant's profile frozen (dispute_failed).
//
// # Money: the ledger and refunds
//
// Every fen received is accounted for and every fen owed back is paid
// back (payment.go, refunds.go; the rules in domain/money.go).
//
// The ledger. Each case keeps its fee account on the case item
// (money.receivedFen: every payment received for any of its orders;
// money.keptFen: the part that pays the fee) and every movement as an
// immutable ledger entry (L#, also indexed by the Beijing day the money
// moved): a payment the provider took, a refund it paid back, and the
// provider's reports that moved nothing (a failed payment, a declined
// refund). An entry's id is derived from the provider's event (the
// payment's transactionId, the refund's request id), so a replayed callback
// is written once. Micro-deposit payouts are their own immutable entries
// (P#, indexed by day). All in integer fen; statements in yuan are parsed
// into fen exactly (domain.ParseYuan), never through floating point. Per
// case, always: receivedFen = keptFen + the sum of the case's refunds; the
// case view shows money (paidFen, keptFen, refundedFen, refundPendingFen,
// each refund) and refundDue.
//
// Nothing the provider took is refused. A signed callback for an order that
// exists is recorded whatever the case's state and never answered 404
// (RecordPayment). What the fee does not keep is owed back, with its
// reason: the part above the order (overpaid), a short payment (underpaid:
// the order fails and the app asks for a new one), a payment after the case
// closed (case_closed), a second payment of a paid fee (duplicate_payment)
// and a payment of an order a newer one replaced (replaced_order). A paid
// case withdrawn before any reviewer claimed it owes its fee back
// (withdrawn); after a claim or a decision nothing is refunded (the fee
// pays for the review).
//
// Refunds (domain.Refund, F#, versioned) are created in the same
// transaction that makes them owed, with an id derived from their cause:
// two triggers of the same refund (two withdrawals from two devices, the
// same callback delivered twice at once) write one refund. Lifecycle
// pending -> succeeded | failed:
//
//   - order: POST <PAYMENT_PROVIDER_URL>/refunds (shared/payprovider),
//     signed with the merchant key, Idempotency-Key = refundId =
//     <refund id>-<round> (WeChat Pay's out_refund_no): the provider pays a
//     key at most once. Sent at once by the request that made it owed
//     (bounded to 4 s, SendRefund), then by RefundFunction while due
//     (shared/jobs, refunds.go);
//   - no answer (5xx, timeout): attempts+1, due again after 1, 2, 4 ...
//     minutes (at most 6 h, Rules.RefundRetry*); after RefundMaxAttempts
//     unanswered calls failed (unreachable);
//   - accepted: due again after RefundCheckAfter: if the callback has not
//     come, the same request asks again (answered with the refund's
//     current state);
//   - POST /v1/callbacks/refund (or an answer that says so,
//     RecordRefundResult): succeeded with its ledger entry and the
//     applicant's notification (kind refund), or failed (declined) with a
//     ledger entry and a notification that staff will handle it;
//   - an admin's retry (RetryRefund): a declined refund gets a new round (a
//     new request id), an unreachable one keeps its request id (the
//     provider may hold it).
//
// The admins' money (money.go): lists of refunds and discrepancies,
// resolving a discrepancy with a note, the monthly subsidy report. Each
// call is audited: a read as its own entry under AUDIT#<day>, a change in
// its transaction. Lists filter by reading the key range and keeping what
// matches (no FilterExpression: pages stay full; at most 1,000 items are
// examined per page, after which a short page comes back with a cursor).
// The daily reconciliation with the provider's and the bank's statements
// is shared/reconcile.
//
// The tests of these use cases run on the in-process harness
// (shared/httpapi/apitest) with a fake clock: review_test.go (claims,
// decisions, the lifecycle, everything that needs time to pass),
// usecases_test.go (the applicant's use cases), calendar_test.go (review
// deadlines past the calendar's data), people_test.go (invitations,
// member management, agents, disputes), money_test.go (refunds: two
// triggers at once give one refund, with real goroutines on the store;
// backoff).
package certsvc
