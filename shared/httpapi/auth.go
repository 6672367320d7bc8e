package httpapi

import (
	"encoding/json"
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

// parseGroups accepts API Gateway's "[a b]" form, a JSON array, or a plain
// comma/space separated list.
func parseGroups(v string) []string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[\"") {
		var out []string
		if json.Unmarshal([]byte(v), &out) == nil {
			return out
		}
	}
	v = strings.Trim(v, "[]")
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' })
}
