package ssf

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Signing algorithms.
const (
	RS256 = string(jose.RS256)
	ES256 = string(jose.ES256)
)

// signingKey is a Key parsed for use.
type signingKey struct {
	Key
	private crypto.Signer
	signer  jose.Signer
}

func generateKey(alg string, now time.Time) (Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return Key{}, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return Key{}, fmt.Errorf("encode key: %w", err)
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return Key{}, err
	}
	return Key{
		ID:        kid,
		Algorithm: alg,
		Private:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		Created:   now,
	}, nil
}

func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// parseKey checks a stored key: its PEM, that the algorithm fits the key,
// and that the ID is the key's thumbprint. Errors never quote key material.
func parseKey(k Key) (*signingKey, error) {
	block, _ := pem.Decode(k.Private)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key %s: not a PKCS #8 PEM block", k.ID)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: unreadable private key", k.ID)
	}
	var priv crypto.Signer
	switch p := parsed.(type) {
	case *rsa.PrivateKey:
		if k.Algorithm != RS256 {
			return nil, fmt.Errorf("key %s: RSA key stored for %s", k.ID, k.Algorithm)
		}
		priv = p
	case *ecdsa.PrivateKey:
		if k.Algorithm != ES256 || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("key %s: EC key does not fit %s", k.ID, k.Algorithm)
		}
		priv = p
	default:
		return nil, fmt.Errorf("key %s: unsupported key type", k.ID)
	}
	kid, err := thumbprint(priv.Public())
	if err != nil {
		return nil, err
	}
	if kid != k.ID {
		return nil, fmt.Errorf("key %s: id is not the key's thumbprint", k.ID)
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: jose.JSONWebKey{Key: priv, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("secevent+jwt"))
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	return &signingKey{Key: k, private: priv, signer: signer}, nil
}

// keyring is the keys in use: the active one signs, the retired ones still
// within the grace period are published for verification.
type keyring struct {
	active    *signingKey
	published []*signingKey // active first, then retired, newest first
}

// loadKeys reads the stored keys, generates the first key when there is
// none, deletes retired keys past the grace period, and returns the ring.
func (t *Transmitter) loadKeys(ctx context.Context) (*keyring, error) {
	keys, err := t.cfg.Store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	now := t.cfg.Now()
	ring := &keyring{}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Created.After(keys[j].Created) })
	for _, k := range keys {
		if !k.Retired.IsZero() && now.Sub(k.Retired) > t.cfg.KeyGrace {
			if err := t.cfg.Store.DeleteKey(ctx, k.ID); err != nil {
				return nil, fmt.Errorf("delete expired key %s: %w", k.ID, err)
			}
			continue
		}
		sk, err := parseKey(k)
		if err != nil {
			return nil, err
		}
		if k.Retired.IsZero() && ring.active == nil {
			ring.active = sk
			continue
		}
		if k.Retired.IsZero() { // two active keys: keep the newest, retire the other now
			sk.Retired = now
			if err := t.cfg.Store.SaveKey(ctx, sk.Key); err != nil {
				return nil, fmt.Errorf("retire key %s: %w", k.ID, err)
			}
		}
		ring.published = append(ring.published, sk)
	}
	if ring.active == nil {
		k, err := generateKey(t.cfg.Algorithm, now)
		if err != nil {
			return nil, err
		}
		if err := t.cfg.Store.SaveKey(ctx, k); err != nil {
			return nil, fmt.Errorf("save signing key: %w", err)
		}
		t.log.Info("ssf: generated signing key", "kid", k.ID, "alg", k.Algorithm)
		if ring.active, err = parseKey(k); err != nil {
			return nil, err
		}
	}
	ring.published = append([]*signingKey{ring.active}, ring.published...)
	return ring, nil
}

// Rotate makes a new signing key (of Config.Algorithm) the active one. The
// previous key is retired but stays in the JWKS for Config.KeyGrace, so SETs
// it signed — including those still queued — keep verifying. It returns the
// new key's ID.
func (t *Transmitter) Rotate(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.keys == nil {
		return "", ErrNotOpen
	}
	now := t.cfg.Now()
	k, err := generateKey(t.cfg.Algorithm, now)
	if err != nil {
		return "", err
	}
	sk, err := parseKey(k)
	if err != nil {
		return "", err
	}
	if err := t.cfg.Store.SaveKey(ctx, k); err != nil {
		return "", fmt.Errorf("save signing key: %w", err)
	}
	old := t.keys.active
	old.Retired = now
	if err := t.cfg.Store.SaveKey(ctx, old.Key); err != nil {
		return "", fmt.Errorf("retire key %s: %w", old.ID, err)
	}
	ring, err := t.loadKeys(ctx)
	if err != nil {
		return "", err
	}
	if ring.active.ID != sk.ID {
		return "", errors.New("rotate: the new key did not become active")
	}
	t.keys = ring
	t.log.Info("ssf: rotated signing key", "kid", sk.ID, "retired", old.ID)
	return sk.ID, nil
}

// jwks is the published key set: public keys only, without retired keys
// whose grace period has passed.
func (r *keyring) jwks(now time.Time, grace time.Duration) jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range r.published {
		if !k.Retired.IsZero() && now.Sub(k.Retired) > grace {
			continue
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: k.private.Public(), KeyID: k.ID, Algorithm: k.Algorithm, Use: "sig",
		})
	}
	return set
}
