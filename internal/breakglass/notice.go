package breakglass

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// noticeText is what every notice says. It names no patient, person or
// reason: e-mail leaves ward's control, and the alert list is read by
// people who need not know whose record was opened until they open the
// review.
const noticeText = "Emergency access was used; review required"

// maxPerMessage is how many privacy officers one e-mail goes to; more
// get further messages (notify.MaxRecipients is 50).
const maxPerMessage = 50

// ReviewURL is the link to a review case that notices carry.
func (s *Service) ReviewURL(reviewID string) string {
	return s.baseURL + "/access/reviews/" + url.PathEscape(reviewID)
}

// notice is the e-mail about review r: its subject and body hold the
// fixed text and the review link, nothing else.
func (s *Service) notice(r Review) (subject, body string) {
	return noticeText, noticeText + ".\n\n" +
		"A privacy officer must review this emergency access and close the review with a disposition:\n" +
		s.ReviewURL(r.ID) + "\n\n" +
		"This message holds no patient information. Sign in to ward to see the details.\n"
}

// notify e-mails the notice of grant g's review r to every privacy
// officer of g's tenant with an e-mail address. It runs after the grant
// is committed, so it finishes even if the request is cancelled.
func (s *Service) notify(ctx context.Context, g Grant, r Review) error {
	if s.mailer == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	officers, err := s.officers.PrivacyOfficers(ctx, g.Tenant)
	if err != nil {
		return fmt.Errorf("%w: finding the privacy officers: %w", ErrNotify, err)
	}
	var to []string
	for _, o := range officers {
		if e := strings.TrimSpace(o.Email); e != "" && !slices.Contains(to, e) {
			to = append(to, e)
		}
	}
	if len(to) == 0 {
		return fmt.Errorf("%w: the tenant has no privacy officer with an e-mail address", ErrNotify)
	}
	subject, body := s.notice(r)
	var errs []error
	for batch := range slices.Chunk(to, maxPerMessage) {
		if err := s.mailer.Send(ctx, batch, subject, body); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrNotify, err)
	}
	return nil
}
