package index

import (
	"context"
	"fmt"

	"github.com/wardhealth/ward/internal/crypto/keyring"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/fhir/search"
	"github.com/wardhealth/ward/internal/store"
)

// Keys gives the tenant's blind-index key; *keyring.Keyring.
type Keys interface {
	IndexKey(ctx context.Context, tenant string) (*keyring.IndexKey, error)
}

// Indexer computes the tokens of resources being written; it implements
// store.Indexer.
type Indexer struct{ keys Keys }

// NewIndexer returns an Indexer using the tenants' index keys.
func NewIndexer(keys Keys) *Indexer { return &Indexer{keys: keys} }

// Tokens extracts every search value of doc (a *fhir.Resource) and
// returns their tokens.
func (ix *Indexer) Tokens(ctx context.Context, tenant string, doc store.Document) ([]store.Token, error) {
	r, ok := doc.(*fhir.Resource)
	if !ok {
		return nil, fmt.Errorf("index: %T is not a parsed FHIR resource", doc)
	}
	vals, err := search.Extract(r)
	if err != nil {
		return nil, err
	}
	key, err := ix.keys.IndexKey(ctx, tenant)
	if err != nil {
		return nil, err
	}
	return ValueTokens(key, r.Type(), vals), nil
}
