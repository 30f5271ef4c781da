package synth

// Name lists written for this project: common given and family names of
// several origins, spelled as people of that origin write them (with
// their diacritics), so that every tool downstream meets non-ASCII text.
// Read-only.

// nameGroup is the names of one origin and the language its speakers
// are recorded with (Patient.communication).
type nameGroup struct {
	weight       int    // relative share of patients
	lang         string // BCP-47 tag
	langDisplay  string
	male, female []string
	family       []string
	// Han-script forms parallel to male, female and family, for groups
	// whose patients also get a name in their own script; else nil.
	maleNative, femaleNative, familyNative []string
}

var nameGroups = []nameGroup{
	{
		weight: 44, lang: "en-US", langDisplay: "English (United States)",
		male: []string{"James", "John", "Robert", "Michael", "William", "David", "Joseph", "Thomas", "Christopher",
			"Daniel", "Matthew", "Anthony", "Mark", "Steven", "Andrew", "Joshua", "Kevin", "Brian", "George",
			"Edward", "Seán", "Pádraig", "Tyler", "Ethan"},
		female: []string{"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica",
			"Sarah", "Karen", "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Emily", "Donna",
			"Michelle", "Dorothy", "Siobhán", "Niamh", "Kaʻiulani", "Zoë", "Renée"},
		family: []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
			"Taylor", "Thomas", "Moore", "Jackson", "Martin", "Thompson", "White", "Harris", "Clark", "Lewis",
			"Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill", "Green", "Adams",
			"Baker", "O'Brien", "O'Connor", "Sullivan", "Murphy", "Kelly", "Smith-Jones", "McAllister"},
	},
	{
		weight: 18, lang: "es", langDisplay: "Spanish",
		male: []string{"José", "Luis", "Carlos", "Juan", "Jesús", "Miguel", "Ángel", "Alejandro", "Andrés",
			"Raúl", "Sebastián", "Martín", "Joaquín", "Iñaki"},
		female: []string{"María", "Lucía", "Sofía", "Camila", "Valentina", "Ana", "Mónica", "Inés", "Verónica",
			"Ximena", "Begoña", "Rocío", "Guadalupe", "Itziar"},
		family: []string{"García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez",
			"Sánchez", "Ramírez", "Torres", "Flores", "Gómez", "Díaz", "Jiménez", "Muñoz", "Ibáñez", "Núñez",
			"Peña", "de la Cruz", "Castañeda"},
	},
	{
		weight: 4, lang: "vi", langDisplay: "Vietnamese",
		male:   []string{"Minh", "Huy", "Dũng", "Quang", "Tuấn", "Đức", "Hùng", "Khoa", "Thắng", "Phúc"},
		female: []string{"Linh", "Hương", "Thảo", "Ngọc", "Trang", "Phương", "Mai", "Hằng", "Thuỷ", "Yến"},
		family: []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ"},
	},
	{
		weight: 5, lang: "zh", langDisplay: "Chinese",
		male:         []string{"Wei", "Jun", "Hao", "Lei", "Jian", "Ming", "Qiang", "Tao"},
		maleNative:   []string{"伟", "军", "浩", "磊", "建", "明", "强", "涛"},
		female:       []string{"Xiu", "Mei", "Yan", "Fang", "Na", "Jing", "Xia", "Hui"},
		femaleNative: []string{"秀", "梅", "燕", "芳", "娜", "静", "霞", "慧"},
		family:       []string{"Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"},
		familyNative: []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"},
	},
	{
		weight: 4, lang: "fr", langDisplay: "French",
		male:   []string{"François", "Jérôme", "Benoît", "Loïc", "Théo", "Noël", "Gaël", "Stéphane"},
		female: []string{"Zoë", "Chloé", "Amélie", "Élodie", "Gaëlle", "Hélène", "Léa", "Océane", "Françoise"},
		family: []string{"Lefèvre", "Bérubé", "Gagnon", "Côté", "Thériault", "Boucher", "Lévesque", "Fournier", "Général"},
	},
	{
		weight: 4, lang: "de", langDisplay: "German",
		male:   []string{"Jürgen", "Jörg", "Günter", "Stefan", "Klaus", "Lukas", "Matthäus"},
		female: []string{"Käthe", "Ursula", "Birgit", "Anja", "Hannah", "Lena", "Jülide"},
		family: []string{"Müller", "Schröder", "Groß", "Weiß", "Schäfer", "Köhler", "Krüger", "Becker"},
	},
	{
		weight: 2, lang: "sv", langDisplay: "Swedish",
		male:   []string{"Björn", "Søren", "Øyvind", "Åke", "Lars", "Mats"},
		female: []string{"Åsa", "Ingrid", "Sigrid", "Märta", "Liv", "Solveig"},
		family: []string{"Åström", "Lindqvist", "Håkansson", "Jørgensen", "Ødegård", "Sørensen"},
	},
	{
		weight: 3, lang: "pl", langDisplay: "Polish",
		male:   []string{"Łukasz", "Paweł", "Wojciech", "Jiří", "Tomáš", "Zbigniew"},
		female: []string{"Małgorzata", "Agnieszka", "Zofia", "Kateřina", "Żaneta", "Jadwiga"},
		family: []string{"Nowak", "Dvořák", "Wójcik", "Krejčí", "Łukaszewicz", "Novák", "Kamiński", "Procházka"},
	},
	{
		weight: 4, lang: "ar", langDisplay: "Arabic",
		male:   []string{"Muhammad", "Ahmed", "Omar", "Youssef", "Khalid", "Tariq"},
		female: []string{"Fatima", "Aisha", "Layla", "Mariam", "Nour", "Zainab"},
		family: []string{"Al-Sayed", "Haddad", "Khoury", "Mansour", "El-Amin", "Nasser", "Saleh", "Abboud"},
	},
	{
		weight: 5, lang: "hi", langDisplay: "Hindi",
		male:   []string{"Arjun", "Rahul", "Vikram", "Sanjay", "Rohan", "Aditya"},
		female: []string{"Priya", "Ananya", "Deepika", "Kavya", "Lakshmi", "Sunita"},
		family: []string{"Patel", "Sharma", "Singh", "Reddy", "Iyer", "Gupta", "Nair", "Chatterjee"},
	},
	{
		weight: 4, lang: "yo", langDisplay: "Yoruba",
		male:   []string{"Oluwaseun", "Adébáyọ̀", "Tunde", "Chinedu", "Emeka", "Kwame"},
		female: []string{"Ngozi", "Chiamaka", "Adaeze", "Fọláké", "Amara", "Yetunde"},
		family: []string{"Okafor", "Adéyẹmí", "Okonkwo", "Eze", "Nwosu", "Balógun", "Mensah", "Adéṣínà"},
	},
	{
		weight: 3, lang: "ko", langDisplay: "Korean",
		male:   []string{"Min-jun", "Ji-ho", "Seo-jun", "Do-yun", "Hyun-woo"},
		female: []string{"Seo-yeon", "Ji-woo", "Ha-eun", "Min-seo", "Soo-ah"},
		family: []string{"Kim", "Lee", "Park", "Choi", "Jung", "Kang"},
	},
}

// asciiFold maps a rune of the name lists to its plain ASCII letters for
// e-mail addresses; letters outside the table and punctuation are
// dropped by the caller.
func asciiFold(r rune) string {
	switch r {
	case 'á', 'à', 'â', 'ä', 'ã', 'å', 'ą', 'ă', 'ạ', 'ả', 'ấ', 'ầ', 'ẩ', 'ẫ', 'ậ', 'ắ', 'ằ', 'ẳ', 'ẵ', 'ặ', 'Á', 'À', 'Â', 'Ä', 'Å':
		return "a"
	case 'é', 'è', 'ê', 'ë', 'ę', 'ě', 'ẹ', 'ẻ', 'ẽ', 'ế', 'ề', 'ể', 'ễ', 'ệ', 'É', 'È':
		return "e"
	case 'í', 'ì', 'î', 'ï', 'ị', 'ỉ', 'ĩ', 'Í':
		return "i"
	case 'ó', 'ò', 'ô', 'ö', 'õ', 'ø', 'ọ', 'ỏ', 'ố', 'ồ', 'ổ', 'ỗ', 'ộ', 'ơ', 'ớ', 'ờ', 'ở', 'ỡ', 'ợ', 'Ó', 'Ö', 'Ø':
		return "o"
	case 'ú', 'ù', 'û', 'ü', 'ů', 'ụ', 'ủ', 'ũ', 'ư', 'ứ', 'ừ', 'ử', 'ữ', 'ự', 'Ú', 'Ü':
		return "u"
	case 'ý', 'ỳ', 'ỷ', 'ỹ', 'ỵ', 'Ý':
		return "y"
	case 'ñ', 'ń', 'Ñ':
		return "n"
	case 'ç', 'č', 'ć', 'Č':
		return "c"
	case 'ś', 'š', 'ṣ', 'Ś', 'Š', 'Ṣ':
		return "s"
	case 'ź', 'ż', 'ž', 'Ź', 'Ż', 'Ž':
		return "z"
	case 'ł', 'Ł':
		return "l"
	case 'ř', 'Ř':
		return "r"
	case 'đ', 'Đ':
		return "d"
	case 'ß':
		return "ss"
	case 'æ', 'Æ':
		return "ae"
	}
	if r >= 'A' && r <= 'Z' {
		return string(r + 'a' - 'A')
	}
	if r >= 'a' && r <= 'z' {
		return string(r)
	}
	return ""
}

// appendEmailPart appends the lower-case ASCII letters of name.
func appendEmailPart(dst []byte, name string) []byte {
	for _, r := range name {
		if r < 0x80 {
			switch {
			case r >= 'a' && r <= 'z':
				dst = append(dst, byte(r))
			case r >= 'A' && r <= 'Z':
				dst = append(dst, byte(r+'a'-'A'))
			}
			continue
		}
		dst = append(dst, asciiFold(r)...)
	}
	return dst
}
