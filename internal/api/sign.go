package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/wardhealth/ward/internal/access"
	"github.com/wardhealth/ward/internal/audit"
	"github.com/wardhealth/ward/internal/esign"
	"github.com/wardhealth/ward/internal/fhir"
	"github.com/wardhealth/ward/internal/store"
)

// Signatures makes and checks electronic signatures with the tenant's
// key; the app provides it.
type Signatures interface {
	Sign(ctx context.Context, tenant string, c esign.Claims) (string, error)
	Verify(ctx context.Context, tenant, jws string) (esign.Claims, error)
}

// sign is POST [type]/[id]/$sign: the signed-in person, freshly stepped
// up, signs the current version of the resource (or fails with 412 if
// If-Match names another). The signature is stored as a Provenance.
func (s *Server) sign(c *call) (*reply, error) {
	typ, id := c.r.PathValue("type"), c.r.PathValue("id")
	if rep := c.requireStepUp(); rep != nil {
		return rep, nil
	}
	ifMatch, err := c.writePrologue(access.Sign, typ)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(access.Create, "Provenance"); err != nil {
		return nil, err
	}
	v, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, typ, id)
	if err == nil {
		err = c.authorizeRecord(access.Sign, v)
	}
	if err != nil {
		c.event(audit.ActionExecute, "sign", typ, id, 0)
		return nil, err
	}
	if ifMatch != 0 && ifMatch != v.VersionID {
		c.versionEvent(audit.ActionExecute, "sign", v)
		return nil, store.ErrVersionConflict
	}
	claims := esign.Claims{Tenant: c.p.Tenant, Issuer: s.d.BaseURL, Signer: c.p.ID, Role: c.p.Role,
		Target: esign.Target(v.Type, v.ID, v.VersionID), Digest: esign.Digest(v.Body),
		Type: esign.AuthorSignature, SignedAt: s.d.Now().Unix()}
	jws, err := s.d.Signatures.Sign(c.r.Context(), c.p.Tenant, claims)
	if err != nil {
		c.versionEvent(audit.ActionExecute, "sign", v)
		return nil, err
	}
	body, err := esign.Provenance(claims, jws)
	if err != nil {
		return nil, err
	}
	prov, err := fhir.Parse(body)
	if err != nil {
		return nil, err
	}
	out, err := c.write([]store.Op{{Kind: store.OpCreate, Doc: prov}}, func(out []store.Result) {
		c.versionEvent(audit.ActionExecute, "sign", v).Outcome = http.StatusCreated
		ev := c.versionEvent(audit.ActionCreate, "create", out[0].Version)
		ev.Outcome, ev.PatientID = http.StatusCreated, c.patientOf(v)
	})
	if err != nil {
		c.versionEvent(audit.ActionExecute, "sign", v)
		return nil, unwrapSingle(err)
	}
	pv := out[0].Version
	rep := s.versionReply(c, pv, http.StatusCreated)
	rep.header.Set("Location", s.versionURL(pv))
	return rep, nil
}

var versionRefRe = regexp.MustCompile(`^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})/_history/([0-9]{1,19})$`)

// verifySignature is GET Provenance/[id]/$verify: it checks the
// Provenance's signature with the tenant's public key and that the
// version it names still has the content that was signed. It answers a
// Parameters resource: valid, and the signer, target and time, or why
// not.
func (s *Server) verifySignature(c *call) (*reply, error) {
	id := c.r.PathValue("id")
	if err := c.params(); err != nil {
		return nil, err
	}
	if err := c.authorize(access.Read, "Provenance"); err != nil {
		return nil, err
	}
	pv, err := s.d.Store.Read(c.r.Context(), c.p.Tenant, "Provenance", id)
	if err == nil {
		err = c.authorizeRecord(access.Read, pv)
	}
	if err != nil {
		c.event(audit.ActionRead, "verify", "Provenance", id, 0)
		return nil, err
	}
	c.versionEvent(audit.ActionRead, "verify", pv)
	claims, err := s.checkSignature(c, pv)
	params := []map[string]any{{"name": "valid", "valueBoolean": err == nil}}
	if err != nil {
		if !errors.Is(err, esign.ErrInvalid) && !errors.Is(err, esign.ErrUnknownKey) && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		params = append(params, map[string]any{"name": "issue", "valueString": err.Error()})
	} else {
		params = append(params,
			map[string]any{"name": "signer", "valueIdentifier": map[string]any{"system": esign.UserSystem, "value": claims.Signer}},
			map[string]any{"name": "role", "valueCode": claims.Role},
			map[string]any{"name": "target", "valueReference": map[string]any{"reference": claims.Target}},
			map[string]any{"name": "signed", "valueInstant": time.Unix(claims.SignedAt, 0).UTC().Format(time.RFC3339)},
			map[string]any{"name": "issuer", "valueUri": claims.Issuer})
	}
	rep := statusJSON(http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": params})
	rep.header.Set("Content-Type", fhirJSON)
	return rep, nil
}

// checkSignature verifies the signature in Provenance version pv against
// the version it names, which the caller must be allowed to read.
func (s *Server) checkSignature(c *call, pv store.Version) (esign.Claims, error) {
	jws, target, err := esign.FromProvenance(pv.Body)
	if err != nil {
		return esign.Claims{}, err
	}
	claims, err := s.d.Signatures.Verify(c.r.Context(), c.p.Tenant, jws)
	if err != nil {
		return esign.Claims{}, err
	}
	m := versionRefRe.FindStringSubmatch(target)
	if m == nil {
		return esign.Claims{}, errors.New("esign: signature does not verify: the target is not a version reference")
	}
	if err := c.authorize(access.Read, m[1]); err != nil {
		return esign.Claims{}, err
	}
	vid, _ := strconv.ParseInt(m[3], 10, 64)
	v, err := s.d.Store.VRead(c.r.Context(), c.p.Tenant, m[1], m[2], vid)
	if err == nil {
		err = c.authorizeRecord(access.Read, v)
	}
	if err != nil {
		c.event(audit.ActionRead, "verify", m[1], m[2], vid)
		return esign.Claims{}, err
	}
	c.versionEvent(audit.ActionRead, "verify", v)
	return claims, claims.Check(c.p.Tenant, target, v.Body)
}
