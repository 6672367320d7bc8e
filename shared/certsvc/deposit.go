package certsvc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
	"time"

	"microcert/shared/domain"
)

// BankInput names the corporate account for the micro-deposit.
type BankInput struct {
	BankName      string
	AccountName   string
	AccountNumber string
}

// randomFen draws the deposit amount uniformly from 1..99 fen.
func randomFen() (int64, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(99))
	if err != nil {
		return 0, err
	}
	return n.Int64() + 1, nil
}

// depositMAC binds the amount to the case and the deposit (its start
// time) under a secret key: with only 99 possible amounts a plain hash could
// be reversed by trying them all.
func (s *Service) depositMAC(caseID string, started time.Time, fen int64) []byte {
	m := hmac.New(sha256.New, []byte(s.secrets.DepositHMACKey))
	m.Write([]byte(caseID))
	m.Write([]byte{0})
	m.Write([]byte(started.UTC().Format(time.RFC3339Nano)))
	m.Write([]byte{0})
	m.Write([]byte(strconv.FormatInt(fen, 10)))
	return m.Sum(nil)
}

// StartDeposit sends the micro-deposit: the amount goes only to the payout
// outbox (what the bank must pay); the case keeps its keyed MAC.
//
// The limits are the enterprise's, not the case's: at most
// rules.DepositsPerWindow deposits in any rules.DepositWindow, whatever
// case they were started on, and none during a lock's cool-down (409
// deposit_limit_reached with nextDepositAt). The deposit log is written in
// the same transaction as the case, under its version, so deposits started
// at once on two cases cannot both slip under the limit. The holder must be
// the enterprise itself (422 account_name_mismatch).
func (s *Service) StartDeposit(ctx context.Context, by domain.Actor, caseID string, in BankInput) (*domain.Deposit, error) {
	acct := strings.ReplaceAll(strings.TrimSpace(in.AccountNumber), " ", "")
	var fields []domain.FieldError
	fields = append(fields, lineField("bankName", in.BankName, 1, 100)...)
	fields = append(fields, lineField("accountName", in.AccountName, 1, 100)...)
	if len(acct) < 8 || len(acct) > 30 || strings.Trim(acct, "0123456789") != "" {
		fields = append(fields, domain.FieldError{Field: "accountNumber", Code: "invalid_account_number",
			Message: domain.Text{Zh: "对公账号应为 8-30 位数字。", En: "accountNumber must be 8-30 digits."}})
	}
	if err := fieldsError(fields); err != nil {
		return nil, err
	}
	var sent *domain.Deposit
	_, err := s.writeCase(ctx, by, caseID, asMember(domain.PermPrepare), nil, func(cy *caseCycle) error {
		c := cy.Prev
		if err := editable(c); err != nil {
			return err
		}
		e := domain.CaseRequirementsEnterprise(cy.State, c)
		if !requiresItem(e, c, domain.ReqBankVerification) {
			return domain.E(domain.KindConflict, "verification_not_required",
				"本案件不需要对公账户验证。", "This case does not need the corporate-account verification.")
		}
		if !domain.SameRegisteredName(in.AccountName, e.Name) {
			return domain.ErrAccountNameMismatch.With("enterpriseName", e.Name)
		}
		now := cy.Now
		if d := c.Deposit; d != nil {
			switch {
			case d.Status == domain.DepositVerified && d.AccountLast4 == acct[len(acct)-4:] && domain.SameRegisteredName(d.AccountName, e.Name):
				return domain.E(domain.KindConflict, "already_verified", "对公账户已验证。", "The account is already verified.")
			case d.Status == domain.DepositPending && now.Before(d.Deadline) && d.AttemptsLeft > 0:
				// A new deposit while one is open would hand out free guesses.
				return domain.E(domain.KindConflict, "verification_pending",
					"打款验证进行中，请查看对公账户到账金额后确认。", "A micro-deposit is already on its way; confirm the amount you received.").
					With("deadline", d.Deadline).With("attemptsLeft", d.AttemptsLeft)
			}
		}
		if next := cy.State.Deposits.NextDepositAt(now, s.rules); next.After(now) {
			return domain.ErrDepositLimit(next, s.rules)
		}
		fen, err := s.randFen()
		if err != nil {
			return domain.Wrap(domain.KindInternal, "random", err)
		}
		d := &domain.Deposit{
			Status:       domain.DepositPending,
			AmountMAC:    hex.EncodeToString(s.depositMAC(c.ID, now, fen)),
			BankName:     strings.TrimSpace(in.BankName),
			AccountName:  strings.TrimSpace(in.AccountName),
			AccountLast4: acct[len(acct)-4:],
			Deadline:     now.Add(s.rules.DepositTTL),
			AttemptsLeft: s.rules.DepositAttempts,
			CreatedAt:    now,
		}
		cy.Next.Deposit = d
		log := cy.State.Deposits.WithStart(c.EnterpriseID, domain.DepositStart{At: now, CaseID: c.ID, AccountLast4: d.AccountLast4}, s.rules)
		cy.Deposits = &log
		cy.Change.Payouts = append(cy.Change.Payouts, domain.Payout{ID: domain.NewIDAt(now), CaseID: c.ID, AmountFen: fen, AccountLast4: d.AccountLast4, At: now})
		sent = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

var errDepositLocked = domain.E(domain.KindConflict, "verification_locked",
	"输入错误次数过多，打款验证已锁定。", "Too many wrong amounts; the micro-deposit verification is locked.")

// ConfirmDeposit checks the amount the applicant read on the statement.
// Every wrong guess is written under optimistic locking, so parallel
// guesses cannot share one attempt; the guess that locks the deposit also
// starts the enterprise's cool-down (deposit log, same transaction). The
// answer of a lock says when a new deposit may start (nextDepositAt).
func (s *Service) ConfirmDeposit(ctx context.Context, by domain.Actor, caseID string, amountFen int64) (*domain.Deposit, error) {
	if amountFen < s.rules.DepositMinFen || amountFen > s.rules.DepositMaxFen {
		return nil, invalidField("amountFen", "invalid_amount", "金额应为 1 到 99 分之间的整数。", "amountFen must be an integer from 1 to 99.")
	}
	var result *domain.Deposit
	cy, err := s.writeCase(ctx, by, caseID, asMember(domain.PermPrepare), nil, func(cy *caseCycle) error {
		c := cy.Prev
		d := c.Deposit
		now := cy.Now
		switch {
		case d == nil:
			return domain.E(domain.KindConflict, "verification_not_started", "尚未发起打款验证。", "No micro-deposit was sent yet.")
		case d.Status == domain.DepositVerified:
			result = d
			cy.Skip()
			return nil
		case d.Status == domain.DepositLocked || d.AttemptsLeft <= 0:
			return errDepositLocked.With("nextDepositAt", cy.State.Deposits.NextDepositAt(now, s.rules).UTC())
		case d.Status == domain.DepositExpired || now.After(d.Deadline):
			return domain.E(domain.KindConflict, "verification_expired", "打款验证已过期，请重新发起。", "The micro-deposit expired; start a new one.").
				With("nextDepositAt", cy.State.Deposits.NextDepositAt(now, s.rules).UTC())
		}
		if err := editable(c); err != nil {
			return err
		}
		want, _ := hex.DecodeString(d.AmountMAC)
		nd := *d
		if hmac.Equal(want, s.depositMAC(c.ID, d.CreatedAt, amountFen)) {
			nd.Status = domain.DepositVerified
			nd.VerifiedAt = &now
		} else {
			nd.AttemptsLeft--
			if nd.AttemptsLeft <= 0 {
				nd.AttemptsLeft = 0
				nd.Status = domain.DepositLocked
				log := cy.State.Deposits.WithLock(c.EnterpriseID, now, s.rules)
				cy.Deposits = &log
			}
		}
		cy.Next.Deposit = &nd
		result = &nd
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case result.Status == domain.DepositVerified:
		return result, nil
	case result.Status == domain.DepositLocked:
		return nil, errDepositLocked.With("attemptsLeft", 0).
			With("nextDepositAt", cy.Deposits.NextDepositAt(cy.Now, s.rules).UTC())
	}
	return nil, domain.E(domain.KindInvalid, "wrong_amount", "金额不正确。", "The amount is not correct.").With("attemptsLeft", result.AttemptsLeft)
}
