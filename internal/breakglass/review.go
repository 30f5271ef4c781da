package breakglass

import (
	"context"
	"fmt"
	"slices"
)

// reviewer checks that by is a privacy officer of a tenant.
func reviewer(by Actor) error {
	if by.Role != RolePrivacyOfficer || by.Tenant == "" || by.ID == "" {
		return fmt.Errorf("%w: only a privacy officer of the tenant reviews emergency access", ErrForbidden)
	}
	return nil
}

// Reviews lists the review cases of by's tenant: the open ones oldest
// first, or the closed ones most recently closed first (at most 500).
// Only a privacy officer may list them.
func (s *Service) Reviews(ctx context.Context, by Actor, open bool) ([]Review, error) {
	if err := reviewer(by); err != nil {
		return nil, err
	}
	return s.st.BreakGlassReviews(ctx, by.Tenant, open, reviewsLimit)
}

// Case returns a review case of by's tenant with its grant, and the
// reason and notes opened, for a privacy officer (the target of the
// review link). The caller audits the read: the reason may hold PHI.
func (s *Service) Case(ctx context.Context, by Actor, reviewID string) (Case, error) {
	if err := reviewer(by); err != nil {
		return Case{}, err
	}
	r, g, err := s.reviewAndGrant(ctx, by, reviewID)
	if err != nil {
		return Case{}, err
	}
	c := Case{Review: r, Grant: g}
	reason, err := s.sealer.Open(ctx, g.Tenant, g.SealedReason, ReasonAAD(g.ID))
	if err != nil {
		return Case{}, fmt.Errorf("breakglass: open reason: %w", err)
	}
	c.Reason = Text(reason)
	if r.SealedNotes != nil {
		notes, err := s.sealer.Open(ctx, r.Tenant, r.SealedNotes, NotesAAD(r.ID))
		if err != nil {
			return Case{}, fmt.Errorf("breakglass: open notes: %w", err)
		}
		c.Notes = Text(notes)
	}
	return c, nil
}

// Close closes a review with a disposition (Dispositions) and optional
// notes (at most MaxNotes characters; they may hold PHI and are sealed).
// Only a privacy officer of the review's tenant may close it
// (ErrForbidden), and not the review of their own grant; a review of
// another tenant is ErrNotFound; a closed one ErrClosed. A review closes
// only once its grant is over (ErrActive), so the disposition covers the
// whole window.
func (s *Service) Close(ctx context.Context, by Actor, reviewID, disposition, notes string) (Review, error) {
	if err := reviewer(by); err != nil {
		return Review{}, err
	}
	if !slices.Contains(Dispositions(), disposition) {
		return Review{}, fmt.Errorf("%w: disposition must be %s, %s or %s", ErrInvalid, Justified, NotJustified, NeedsFollowUp)
	}
	notes, err := checkText("notes", notes, 0, MaxNotes)
	if err != nil {
		return Review{}, err
	}
	r, g, err := s.reviewAndGrant(ctx, by, reviewID)
	if err != nil {
		return Review{}, err
	}
	if !r.IsOpen() {
		return Review{}, ErrClosed
	}
	if g.PersonID == by.ID {
		return Review{}, fmt.Errorf("%w: nobody reviews their own emergency access", ErrForbidden)
	}
	now := s.now().UTC()
	if g.ActiveAt(now) {
		return Review{}, fmt.Errorf("%w: end the grant before closing its review", ErrActive)
	}
	var sealed []byte
	if notes != "" {
		if sealed, err = s.sealer.Seal(ctx, r.Tenant, []byte(notes), NotesAAD(r.ID)); err != nil {
			return Review{}, fmt.Errorf("breakglass: seal notes: %w", err)
		}
	}
	if err := s.st.CloseBreakGlassReview(ctx, r.ID, by.ID, now, disposition, sealed); err != nil {
		return Review{}, err
	}
	r.Closed, r.ClosedBy, r.Disposition, r.SealedNotes = now, by.ID, disposition, sealed
	return r, nil
}

// reviewAndGrant loads a review of by's tenant and its grant.
func (s *Service) reviewAndGrant(ctx context.Context, by Actor, reviewID string) (Review, Grant, error) {
	r, err := s.st.BreakGlassReview(ctx, reviewID)
	if err != nil {
		return Review{}, Grant{}, err
	}
	if r.Tenant != by.Tenant {
		return Review{}, Grant{}, ErrNotFound
	}
	g, err := s.st.BreakGlassGrant(ctx, r.GrantID)
	if err != nil {
		return Review{}, Grant{}, err
	}
	return r, g, nil
}
