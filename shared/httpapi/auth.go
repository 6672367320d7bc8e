package httpapi

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"microcert/shared/domain"
)

var errUnauthenticated = domain.E(domain.KindUnauthorized, "unauthenticated",
	"缺少有效的身份凭证。", "A valid token is required.")

// actorFrom reads the caller from the JWT authorizer's claims. API Gateway
// has already checked the token; we only read sub and the groups, which it
// passes as one string such as "[reviewer admin]".
func actorFrom(ev events.APIGatewayV2HTTPRequest, acc Access) (domain.Actor, error) {
	if acc == Public {
		return domain.Actor{}, nil
	}
	var claims map[string]string
	if a := ev.RequestContext.Authorizer; a != nil && a.JWT != nil {
		claims = a.JWT.Claims
	}
	sub := strings.TrimSpace(claims["sub"])
	if sub == "" || len(sub) > 128 {
		return domain.Actor{}, errUnauthenticated
	}
	groups := claims["cognito:groups"]
	if groups == "" {
		groups = claims["groups"]
	}
	actor := domain.Actor{UserID: sub}
	for _, g := range parseGroups(groups) {
		switch domain.Role(g) {
		case domain.RoleApplicant, domain.RoleReviewer, domain.RoleAdmin:
			actor.Roles = append(actor.Roles, domain.Role(g))
		}
	}
	if len(actor.Roles) == 0 {
		actor.Roles = []domain.Role{domain.RoleApplicant}
	}
	return actor, nil
}

// parseGroups reads the groups claim exactly as API Gateway's JWT
// authorizer hands it over, and nothing else: a claim that is an array in
// the token arrives as "[a b c]" (the names joined by single spaces; Cognito
// group names cannot contain white space), a claim that is a string arrives
// as that string and names one group. A group name is never split further:
// "reviewer,admin" or "[reviewer,admin]" is one group, which is no role at
// all, so no one gets two roles from a group whose name mentions them.
func parseGroups(v string) []string {
	if v == "" {
		return nil
	}
	if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' {
		return []string{v}
	}
	inner := v[1 : len(v)-1]
	var out []string
	for _, g := range strings.Split(inner, " ") {
		if g != "" {
			out = append(out, g)
		}
	}
	return out
}
