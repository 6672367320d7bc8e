package localstack

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The local OIDC issuer stands in for the Cognito user pool of the template.
// Its RSA key lives under the state dir, so `make token` and `make run` (and
// any restart) agree on it.
const (
	Issuer   = "https://issuer.microcert.local"
	Audience = "microcert-local-apps"
	KeyID    = "microcert-local-1"
)

// Roles the apps use (the groups of the Cognito user pool).
var Roles = []string{"applicant", "reviewer", "admin"}

// LocalIssuer signs and checks tokens with the local key.
type LocalIssuer struct {
	key *rsa.PrivateKey
}

// IssuerKeyPath is where the key lives under a state dir.
func IssuerKeyPath(stateDir string) string {
	return filepath.Join(stateDir, "issuer", "key.pem")
}

// OpenIssuer loads the issuer key under stateDir, creating it on first use.
func OpenIssuer(stateDir string) (*LocalIssuer, error) {
	path := IssuerKeyPath(stateDir)
	if b, err := os.ReadFile(path); err == nil {
		return parseIssuerKey(path, b)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	// O_EXCL: when two processes create it at once, the first one wins and
	// the other reads that one.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) {
		time.Sleep(50 * time.Millisecond)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return parseIssuerKey(path, b)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return &LocalIssuer{key: key}, nil
}

func parseIssuerKey(path string, b []byte) (*LocalIssuer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("issuer key %s: not PEM", path)
	}
	key, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("issuer key %s: %w", path, err)
	}
	return &LocalIssuer{key: key}, nil
}

// TokenOption adjusts a token.
type TokenOption func(jwt.MapClaims)

// WithTTL sets the expiry relative to now (default 1 h).
func WithTTL(d time.Duration) TokenOption {
	return func(c jwt.MapClaims) { c["exp"] = time.Now().Add(d).Unix() }
}

// WithClaim sets any claim (nil removes it), e.g. WithClaim("aud", "other").
func WithClaim(name string, value any) TokenOption {
	return func(c jwt.MapClaims) {
		if value == nil {
			delete(c, name)
			return
		}
		c[name] = value
	}
}

// WithGroups replaces the groups (several roles at once).
func WithGroups(groups ...string) TokenOption {
	return func(c jwt.MapClaims) { c["groups"] = groups }
}

// Token returns a signed RS256 ID token for the user with role in "groups".
func (i *LocalIssuer) Token(role, userID string, opts ...TokenOption) (string, error) {
	now := time.Now()
	claims := jwt.MapClaims{
		"iss":       Issuer,
		"aud":       Audience,
		"sub":       userID,
		"iat":       now.Unix(),
		"nbf":       now.Add(-time.Minute).Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"token_use": "id",
		"groups":    []string{role},
	}
	for _, o := range opts {
		o(claims)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = KeyID
	return t.SignedString(i.key)
}

// Verify checks a token the way API Gateway's JWT authorizer does: RS256
// signature with the issuer's key (no other algorithm, never "none"), iss, aud,
// exp (required) and nbf. It returns the claims as API Gateway hands them to
// the function: every value a string, arrays as one "[a b]" string.
func (i *LocalIssuer) Verify(token string) (map[string]string, []string, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithJSONNumber(),
		jwt.WithLeeway(0),
	)
	claims := jwt.MapClaims{}
	_, err := p.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return &i.key.PublicKey, nil
	})
	if err != nil {
		return nil, nil, err
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = claimString(v)
	}
	var scopes []string
	if s, ok := claims["scope"].(string); ok && s != "" {
		scopes = strings.Fields(s)
	}
	return out, scopes, nil
}

// claimString renders a claim value as API Gateway does for payload v2.0.
func claimString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, claimString(e))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+":"+claimString(x[k]))
		}
		return "map[" + strings.Join(parts, " ") + "]"
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}
