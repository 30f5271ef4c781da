package audit

// purposes is the HL7 v3 PurposeOfUse value set
// (http://terminology.hl7.org/ValueSet/v3-PurposeOfUse), codes of the
// system http://terminology.hl7.org/CodeSystem/v3-ActReason.
var purposes = map[string]bool{
	"HMARKT": true, "HOPERAT": true, "CAREMGT": true, "DONAT": true,
	"FRAUD": true, "GOV": true, "HACCRED": true, "HCOMPL": true, "HDECD": true,
	"HDIRECT": true, "HDM": true, "HLEGAL": true, "HOUTCOMS": true, "HPRGRP": true,
	"HQUALIMP": true, "HSYSADMIN": true, "LABELING": true, "METAMGT": true, "MEMADMIN": true,
	"MILCDM": true, "PATADMIN": true, "PATSFTY": true, "PERFMSR": true, "RECORDMGT": true,
	"SYSDEV": true, "HTEST": true, "TRAIN": true, "HPAYMT": true, "CLMATTCH": true,
	"COVAUTH": true, "COVERAGE": true, "ELIGDTRM": true, "ELIGVER": true, "ENROLLM": true,
	"MILDCRG": true, "REMITADV": true, "HRESCH": true, "BIORCH": true, "CLINTRCH": true,
	"CLINTRCHNPC": true, "CLINTRCHPC": true, "PRECLINTRCH": true, "DSRCH": true, "POARCH": true,
	"TRANSRCH": true, "PATRQT": true, "FAMRQT": true, "PWATRNY": true, "SUPNWK": true,
	"PUBHLTH": true, "DISASTER": true, "THREAT": true, "TREAT": true, "CLINTRL": true,
	"COC": true, "ETREAT": true, "BTG": true, "ERTREAT": true, "POPHLTH": true,
}

// PurposeSystem is the code system of Event.Purpose.
const PurposeSystem = "http://terminology.hl7.org/CodeSystem/v3-ActReason"

// ValidPurpose reports whether code is a purpose of use ward records.
func ValidPurpose(code string) bool { return purposes[code] }

// PurposeBreakGlass is the purpose of use of every access an emergency
// (break-glass) grant allowed.
const PurposeBreakGlass = "BTG"
