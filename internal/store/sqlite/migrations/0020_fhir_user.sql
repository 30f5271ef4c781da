-- The FHIR resource a person's account stands for (internal/identity):
-- Practitioner/… for clinical staff, Patient/… for a patient,
-- RelatedPerson/… for a personal representative; '' when not linked.
-- Access decisions use it to find the person's patients. One account per
-- resource in a tenant. An invitation can carry it, so that a patient
-- joins already linked to their record.
ALTER TABLE people ADD COLUMN fhir_user TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX people_fhir_user ON people (tenant, fhir_user) WHERE fhir_user != '';
ALTER TABLE invitations ADD COLUMN fhir_user TEXT NOT NULL DEFAULT '';
