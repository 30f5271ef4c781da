package synth

// Clinical code tables written for this project: a small, common subset
// of SNOMED CT (encounter types, conditions), LOINC (vital signs, labs,
// note types), RxNorm (medications) and UCUM (units), with displays.
// Read-only.

const (
	sysSNOMED   = "http://snomed.info/sct"
	sysLOINC    = "http://loinc.org"
	sysRxNorm   = "http://www.nlm.nih.gov/research/umls/rxnorm"
	sysUCUM     = "http://unitsofmeasure.org"
	sysActCode  = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	sysObsCat   = "http://terminology.hl7.org/CodeSystem/observation-category"
	sysInterp   = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
	sysClinical = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	sysVerif    = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	sysCondCat  = "http://terminology.hl7.org/CodeSystem/condition-category"
	sysV2ID     = "http://terminology.hl7.org/CodeSystem/v2-0203"
	sysMarital  = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
	sysLanguage = "urn:ietf:bcp:47"
	sysDocCat   = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
	sysSSN      = "http://hl7.org/fhir/sid/us-ssn"
	// sysMRN names the record-number namespace of the fictional provider
	// (example.org is reserved for documentation, RFC 2606).
	sysMRN = "https://ward-synth.example.org/fhir/sid/mrn"
	// sysDriversLicence is prefixed to the state FIPS code: the HL7 OID
	// arc for US driver's licence numbers.
	sysDriversLicence = "urn:oid:2.16.840.1.113883.4.3."
)

// Condition flags that change a patient's observation values.
const (
	flagHypertension = 1 << iota
	flagDiabetes
	flagHyperlipidemia
	flagAnemia
	flagCOPD
	flagObesity
)

// encounterKind is a type of visit.
type encounterKind struct {
	weight                 int
	minAge, maxAge         int // years, inclusive
	class, classDisplay    string
	code, display          string // SNOMED CT
	minMinutes, maxMinutes int
	note, noteDisplay      string // LOINC type of the visit's note
	place                  string // appended to the city for serviceProvider
}

var encounterKinds = []encounterKind{
	{25, 0, 17, "AMB", "ambulatory", "410620009", "Well child visit (procedure)", 20, 40, "11506-3", "Progress note", "Community Health Center"},
	{25, 18, 150, "AMB", "ambulatory", "185349003", "Encounter for check up (procedure)", 20, 45, "11506-3", "Progress note", "Community Health Center"},
	{20, 0, 150, "AMB", "ambulatory", "185345009", "Encounter for symptom (procedure)", 15, 40, "11506-3", "Progress note", "Community Health Center"},
	{15, 0, 150, "AMB", "ambulatory", "390906007", "Follow-up encounter (procedure)", 15, 30, "11506-3", "Progress note", "Community Health Center"},
	{5, 18, 150, "AMB", "ambulatory", "698314001", "Consultation for treatment (procedure)", 30, 60, "11488-4", "Consult note", "Specialty Clinic"},
	{7, 0, 150, "EMER", "emergency", "50849002", "Emergency room admission (procedure)", 60, 480, "34111-5", "Emergency department Note", "General Hospital"},
	{3, 0, 150, "IMP", "inpatient encounter", "183452005", "Emergency hospital admission (procedure)", 1440, 10080, "18842-5", "Discharge summary", "General Hospital"},
}

// medication is an RxNorm clinical drug with how it is usually taken.
type medication struct {
	code, display string
	dosage        string
	asNeeded      bool
}

var (
	medLisinopril    = medication{"314076", "lisinopril 10 MG Oral Tablet", "Take 1 tablet by mouth once daily.", false}
	medAmlodipine    = medication{"197361", "Amlodipine 5 MG Oral Tablet", "Take 1 tablet by mouth once daily.", false}
	medHCTZ          = medication{"310798", "Hydrochlorothiazide 25 MG Oral Tablet", "Take 1 tablet by mouth every morning.", false}
	medMetformin     = medication{"860975", "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", "Take 1 tablet by mouth once daily with the evening meal.", false}
	medInsulin       = medication{"106892", "insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable Suspension", "Inject 10 units under the skin twice daily before meals.", false}
	medSimvastatin   = medication{"312961", "Simvastatin 20 MG Oral Tablet", "Take 1 tablet by mouth once daily in the evening.", false}
	medAtorvastatin  = medication{"259255", "Atorvastatin 80 MG Oral Tablet", "Take 1 tablet by mouth once daily.", false}
	medAlbuterol     = medication{"745679", "200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "Inhale 2 puffs every 4 to 6 hours as needed for wheezing.", true}
	medFluticasone   = medication{"895994", "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", "Inhale 2 puffs twice daily.", false}
	medAmoxicillin   = medication{"308182", "Amoxicillin 250 MG Oral Capsule", "Take 1 capsule by mouth three times daily for 10 days.", false}
	medAmoxClav      = medication{"562251", "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", "Take 1 tablet by mouth every 12 hours for 10 days.", false}
	medPenicillin    = medication{"834061", "Penicillin V Potassium 250 MG Oral Tablet", "Take 1 tablet by mouth four times daily for 10 days.", false}
	medIbuprofen     = medication{"310965", "Ibuprofen 200 MG Oral Tablet", "Take 1 to 2 tablets by mouth every 6 hours as needed for pain.", true}
	medAcetaminophen = medication{"313782", "Acetaminophen 325 MG Oral Tablet", "Take 2 tablets by mouth every 6 hours as needed for pain or fever.", true}
	medNaproxen      = medication{"849574", "Naproxen sodium 220 MG Oral Tablet", "Take 1 tablet by mouth every 12 hours as needed for pain.", true}
	medOxycodoneAPAP = medication{"1049221", "Acetaminophen 325 MG / Oxycodone Hydrochloride 5 MG Oral Tablet", "Take 1 tablet by mouth every 6 hours as needed for severe pain.", true}
	medLevothyroxine = medication{"966222", "Levothyroxine Sodium 0.075 MG Oral Tablet", "Take 1 tablet by mouth once daily before breakfast.", false}
	medAlendronate   = medication{"904419", "Alendronic acid 10 MG Oral Tablet", "Take 1 tablet by mouth once daily with a full glass of water.", false}
	medFerrous       = medication{"310325", "ferrous sulfate 325 MG Oral Tablet", "Take 1 tablet by mouth once daily.", false}
	medWarfarin      = medication{"855332", "Warfarin Sodium 5 MG Oral Tablet", "Take 1 tablet by mouth once daily; dose adjusted to INR.", false}
	medDigoxin       = medication{"197604", "Digoxin 0.125 MG Oral Tablet", "Take 1 tablet by mouth once daily.", false}
	medClopidogrel   = medication{"309362", "Clopidogrel 75 MG Oral Tablet", "Take 1 tablet by mouth once daily.", false}
	medHydrocortison = medication{"106258", "Hydrocortisone 10 MG/ML Topical Cream", "Apply a thin layer to the affected skin twice daily.", false}
)

// symptomatic is prescribed when a patient's condition has no specific
// medication in the table.
var symptomatic = []medication{medAcetaminophen, medIbuprofen, medNaproxen}

// conditionKind is a diagnosis.
type conditionKind struct {
	weight         int
	minAge, maxAge int    // years at diagnosis, inclusive
	code, display  string // SNOMED CT
	chronic        bool   // stays active; else resolved after days
	flag           int
	meds           []medication
}

var conditionKinds = []conditionKind{
	{14, 30, 150, "59621000", "Essential hypertension (disorder)", true, flagHypertension, []medication{medLisinopril, medAmlodipine, medHCTZ}},
	{9, 25, 150, "44054006", "Diabetes mellitus type 2 (disorder)", true, flagDiabetes, []medication{medMetformin, medMetformin, medInsulin}},
	{10, 30, 150, "55822004", "Hyperlipidemia (disorder)", true, flagHyperlipidemia, []medication{medSimvastatin, medAtorvastatin}},
	{6, 2, 150, "195967001", "Asthma (disorder)", true, 0, []medication{medAlbuterol, medFluticasone}},
	{8, 0, 12, "65363002", "Otitis media (disorder)", false, 0, []medication{medAmoxicillin, medAmoxClav}},
	{6, 3, 60, "43878008", "Streptococcal sore throat (disorder)", false, 0, []medication{medPenicillin, medAmoxicillin}},
	{10, 5, 150, "444814009", "Viral sinusitis (disorder)", false, 0, []medication{medAcetaminophen, medIbuprofen}},
	{6, 5, 150, "10509002", "Acute bronchitis (disorder)", false, 0, []medication{medAcetaminophen}},
	{4, 20, 150, "40930008", "Hypothyroidism (disorder)", true, 0, []medication{medLevothyroxine}},
	{3, 50, 150, "64859006", "Osteoporosis (disorder)", true, 0, []medication{medAlendronate}},
	{3, 0, 150, "271737000", "Anemia (disorder)", true, flagAnemia, []medication{medFerrous}},
	{6, 18, 150, "162864005", "Body mass index 30+ - obesity (finding)", true, flagObesity, nil},
	{5, 13, 150, "35489007", "Depressive disorder (disorder)", true, 0, nil},
	{5, 13, 150, "197480006", "Anxiety disorder (disorder)", true, 0, nil},
	{3, 60, 150, "49436004", "Atrial fibrillation (disorder)", true, 0, []medication{medWarfarin, medDigoxin}},
	{3, 45, 150, "13645005", "Chronic obstructive lung disease (disorder)", true, flagCOPD, []medication{medAlbuterol}},
	{5, 45, 150, "239873007", "Osteoarthritis of knee (disorder)", true, 0, []medication{medNaproxen, medAcetaminophen, medOxycodoneAPAP}},
	{2, 45, 150, "22298006", "Myocardial infarction (disorder)", false, 0, []medication{medClopidogrel, medAtorvastatin}},
	{2, 65, 150, "26929004", "Alzheimer's disease (disorder)", true, 0, nil},
	{3, 0, 40, "24079001", "Atopic dermatitis (disorder)", true, 0, []medication{medHydrocortison}},
	{1, 0, 150, "84757009", "Epilepsy (disorder)", true, 0, nil},
	{4, 3, 150, "232353008", "Perennial allergic rhinitis with seasonal variation (disorder)", true, 0, nil},
}

// Observation kinds, indexes into obsKinds.
const (
	obsWeight = iota
	obsHeight
	obsBMI
	obsBP
	obsHeartRate
	obsRespRate
	obsTemp
	obsSpO2
	obsGlucose
	obsHbA1c
	obsCholesterol
	obsHDL
	obsLDL
	obsTriglycerides
	obsCreatinine
	obsHemoglobin
	obsLeukocytes
	obsSodium
	obsPotassium
)

// obsKind is a vital sign or laboratory test. Values are integers in
// units of 10^-scale (weight 81.4 kg is 814 with scale 1).
type obsKind struct {
	weight        int
	code, display string // LOINC
	short         string // as written in a note
	category      string // observation-category code
	unit, ucum    string
	scale         int
	low, high     int // reference range; -1 where there is no bound
}

var obsKinds = [...]obsKind{
	obsWeight:        {14, "29463-7", "Body weight", "Weight", "vital-signs", "kg", "kg", 1, -1, -1},
	obsHeight:        {8, "8302-2", "Body height", "Height", "vital-signs", "cm", "cm", 1, -1, -1},
	obsBMI:           {8, "39156-5", "Body mass index (BMI) [Ratio]", "BMI", "vital-signs", "kg/m2", "kg/m2", 1, -1, -1},
	obsBP:            {14, "85354-9", "Blood pressure panel with all children optional", "Blood pressure", "vital-signs", "mm[Hg]", "mm[Hg]", 0, -1, -1},
	obsHeartRate:     {10, "8867-4", "Heart rate", "Heart rate", "vital-signs", "/min", "/min", 0, -1, -1},
	obsRespRate:      {5, "9279-1", "Respiratory rate", "Respiratory rate", "vital-signs", "/min", "/min", 0, -1, -1},
	obsTemp:          {6, "8310-5", "Body temperature", "Temperature", "vital-signs", "°C", "Cel", 1, -1, -1},
	obsSpO2:          {5, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "SpO2", "vital-signs", "%", "%", 0, -1, -1},
	obsGlucose:       {6, "2339-0", "Glucose [Mass/volume] in Blood", "Glucose", "laboratory", "mg/dL", "mg/dL", 0, 70, 99},
	obsHbA1c:         {4, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "HbA1c", "laboratory", "%", "%", 1, 40, 56},
	obsCholesterol:   {4, "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "Total cholesterol", "laboratory", "mg/dL", "mg/dL", 0, -1, 199},
	obsHDL:           {3, "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "HDL cholesterol", "laboratory", "mg/dL", "mg/dL", 0, 40, -1},
	obsLDL:           {3, "18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "LDL cholesterol", "laboratory", "mg/dL", "mg/dL", 0, -1, 129},
	obsTriglycerides: {3, "2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "Triglycerides", "laboratory", "mg/dL", "mg/dL", 0, -1, 149},
	obsCreatinine:    {2, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Creatinine", "laboratory", "mg/dL", "mg/dL", 2, 60, 130},
	obsHemoglobin:    {2, "718-7", "Hemoglobin [Mass/volume] in Blood", "Hemoglobin", "laboratory", "g/dL", "g/dL", 1, 120, 175},
	obsLeukocytes:    {1, "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "WBC", "laboratory", "10*3/uL", "10*3/uL", 1, 45, 110},
	obsSodium:        {1, "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "Sodium", "laboratory", "mmol/L", "mmol/L", 0, 135, 145},
	obsPotassium:     {1, "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "Potassium", "laboratory", "mmol/L", "mmol/L", 1, 35, 51},
}

// Components of the blood pressure panel.
const (
	loincSystolic         = "8480-6"
	loincSystolicDisplay  = "Systolic blood pressure"
	loincDiastolic        = "8462-4"
	loincDiastolicDisplay = "Diastolic blood pressure"
)

// maritalStatuses are v3-MaritalStatus codes with their displays.
var maritalStatuses = [...][2]string{{"M", "Married"}, {"S", "Never Married"}, {"D", "Divorced"}, {"W", "Widowed"}}
