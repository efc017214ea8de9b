"""The word and fact tables chapter 7's generated instructions draw from, written for this repository.

Plain data (plurals, past tenses, antonyms, capitals, elements, definitions, names) and the three
English rules the generator needs (``pluralize``, ``past_tense``, ``third_person``). ``instruct_kinds``
turns them into question/answer entries; the tests check every generated answer against them.
"""

from __future__ import annotations

# Hand-laid-out tables: the formatter leaves them as written.
# fmt: off
IRREGULAR_PLURALS = {
    "child": "children", "man": "men", "woman": "women", "mouse": "mice", "goose": "geese",
    "tooth": "teeth", "foot": "feet", "person": "people", "ox": "oxen", "leaf": "leaves",
    "knife": "knives", "wife": "wives", "wolf": "wolves", "half": "halves", "shelf": "shelves",
    "loaf": "loaves", "calf": "calves", "thief": "thieves", "sheep": "sheep", "deer": "deer",
    "fish": "fish", "cactus": "cacti", "potato": "potatoes", "tomato": "tomatoes", "hero": "heroes",
    "echo": "echoes", "piano": "pianos", "photo": "photos", "roof": "roofs", "chief": "chiefs",
}
REGULAR_NOUNS = (
    "cat dog book table chair window river mountain pencil garden bottle candle lamp clock door "
    "bridge train ticket letter basket button jacket kitten rabbit horse tiger bird flower tree "
    "cloud road street city country story party baby lady family puppy berry cherry library "
    "key toy boy day monkey valley box fox tax bus glass dress class kiss church beach watch "
    "match brush dish wish bench lunch coach quiz"
).split()
IRREGULAR_PAST = {
    "go": "went", "see": "saw", "eat": "ate", "write": "wrote", "take": "took", "give": "gave",
    "run": "ran", "swim": "swam", "sing": "sang", "drink": "drank", "begin": "began", "bring": "brought",
    "buy": "bought", "think": "thought", "teach": "taught", "catch": "caught", "fight": "fought",
    "find": "found", "make": "made", "sell": "sold", "tell": "told", "feel": "felt", "keep": "kept",
    "sleep": "slept", "leave": "left", "meet": "met", "speak": "spoke", "break": "broke", "choose": "chose",
    "freeze": "froze", "drive": "drove", "ride": "rode", "rise": "rose", "fly": "flew", "grow": "grew",
    "know": "knew", "throw": "threw", "draw": "drew", "wear": "wore", "tear": "tore", "stand": "stood",
    "understand": "understood", "hold": "held", "build": "built", "send": "sent", "spend": "spent",
    "lose": "lost", "pay": "paid", "say": "said", "lay": "laid", "hear": "heard", "come": "came",
    "become": "became", "forget": "forgot", "get": "got", "sit": "sat", "win": "won", "dig": "dug",
    "hang": "hung", "cut": "cut", "put": "put", "set": "set", "hit": "hit", "shut": "shut", "read": "read",
}
DOUBLING_PAST = {"stop": "stopped", "plan": "planned", "drop": "dropped", "hug": "hugged", "shop": "shopped",
                 "clap": "clapped", "rob": "robbed", "beg": "begged", "grab": "grabbed", "skip": "skipped"}
REGULAR_VERBS = (
    "walk jump play talk laugh cook clean paint open help watch wash finish start visit answer "
    "listen rain work call look want need climb order count dance smile close move bake hope "
    "like love share live arrive agree carry cry hurry study try worry reply copy marry fix kiss"
).split()

ANTONYMS = [
    ("hot", "cold"), ("big", "small"), ("fast", "slow"), ("happy", "sad"), ("light", "dark"),
    ("open", "closed"), ("full", "empty"), ("early", "late"), ("strong", "weak"), ("rich", "poor"),
    ("young", "old"), ("loud", "quiet"), ("hard", "soft"), ("wet", "dry"), ("clean", "dirty"),
    ("tall", "short"), ("thick", "thin"), ("heavy", "light"), ("cheap", "expensive"), ("safe", "dangerous"),
    ("true", "false"), ("brave", "cowardly"), ("friendly", "hostile"), ("generous", "selfish"),
    ("ancient", "modern"), ("accept", "refuse"), ("arrive", "depart"), ("buy", "sell"), ("win", "lose"),
    ("remember", "forget"), ("increase", "decrease"), ("push", "pull"), ("begin", "end"), ("laugh", "cry"),
    ("above", "below"), ("inside", "outside"), ("always", "never"), ("before", "after"), ("top", "bottom"),
    ("north", "south"), ("east", "west"), ("question", "answer"), ("friend", "enemy"), ("day", "night"),
    ("success", "failure"), ("victory", "defeat"), ("entrance", "exit"), ("maximum", "minimum"),
    ("possible", "impossible"), ("visible", "invisible"), ("polite", "rude"), ("calm", "anxious"),
    ("sharp", "blunt"), ("smooth", "rough"), ("narrow", "wide"), ("shallow", "deep"), ("sweet", "bitter"),
    ("public", "private"), ("simple", "complex"), ("temporary", "permanent"), ("guilty", "innocent"),
    ("asleep", "awake"), ("absent", "present"), ("borrow", "lend"), ("float", "sink"), ("freeze", "melt"),
    ("import", "export"), ("include", "exclude"), ("expand", "shrink"), ("attack", "defend"),
]
SYNONYMS = [
    ("big", "large"), ("quick", "fast"), ("happy", "glad"), ("begin", "start"), ("end", "finish"),
    ("smart", "clever"), ("tired", "sleepy"), ("angry", "furious"), ("scared", "afraid"), ("quiet", "silent"),
    ("shut", "close"), ("choose", "select"), ("help", "assist"), ("buy", "purchase"), ("show", "display"),
    ("try", "attempt"), ("answer", "reply"), ("gift", "present"), ("road", "street"), ("rock", "stone"),
    ("couch", "sofa"), ("trash", "garbage"), ("error", "mistake"), ("job", "occupation"), ("house", "home"),
    ("little", "tiny"), ("huge", "enormous"), ("pretty", "beautiful"), ("rich", "wealthy"), ("strange", "odd"),
    ("easy", "simple"), ("hard", "difficult"), ("correct", "right"), ("shy", "timid"), ("brave", "courageous"),
    ("funny", "amusing"), ("calm", "peaceful"), ("damp", "moist"), ("ill", "sick"), ("near", "close"),
    ("speak", "talk"), ("look", "glance"), ("grab", "seize"), ("fix", "repair"), ("build", "construct"),
    ("cry", "weep"), ("jump", "leap"), ("shout", "yell"), ("hurry", "rush"), ("gather", "collect"),
    ("allow", "permit"), ("need", "require"), ("idea", "notion"), ("aim", "goal"), ("fear", "dread"),
    ("chance", "opportunity"), ("center", "middle"), ("journey", "trip"), ("often", "frequently"),
    ("maybe", "perhaps"), ("sure", "certain"), ("whole", "entire"), ("weird", "bizarre"), ("cheap", "inexpensive"),
]
CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Portugal", "Lisbon"),
    ("Japan", "Tokyo"), ("China", "Beijing"), ("India", "New Delhi"), ("Canada", "Ottawa"), ("Mexico", "Mexico City"),
    ("Brazil", "Brasilia"), ("Argentina", "Buenos Aires"), ("Australia", "Canberra"), ("Egypt", "Cairo"),
    ("Kenya", "Nairobi"), ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"), ("Denmark", "Copenhagen"),
    ("Poland", "Warsaw"), ("Greece", "Athens"), ("Ireland", "Dublin"), ("Austria", "Vienna"), ("Hungary", "Budapest"),
    ("Russia", "Moscow"), ("Turkey", "Ankara"), ("Peru", "Lima"), ("Chile", "Santiago"), ("Colombia", "Bogota"),
    ("Thailand", "Bangkok"), ("Vietnam", "Hanoi"), ("South Korea", "Seoul"), ("Indonesia", "Jakarta"),
    ("Iran", "Tehran"), ("Iraq", "Baghdad"), ("Morocco", "Rabat"), ("Nigeria", "Abuja"), ("Ghana", "Accra"),
    ("Ethiopia", "Addis Ababa"), ("Cuba", "Havana"), ("Belgium", "Brussels"), ("the Netherlands", "Amsterdam"),
    ("Switzerland", "Bern"), ("the Czech Republic", "Prague"), ("Iceland", "Reykjavik"), ("New Zealand", "Wellington"),
    ("the Philippines", "Manila"), ("Pakistan", "Islamabad"), ("Ukraine", "Kyiv"), ("Romania", "Bucharest"),
]
ELEMENTS = [
    ("hydrogen", "H"), ("helium", "He"), ("lithium", "Li"), ("carbon", "C"), ("nitrogen", "N"), ("oxygen", "O"),
    ("fluorine", "F"), ("neon", "Ne"), ("sodium", "Na"), ("magnesium", "Mg"), ("aluminium", "Al"), ("silicon", "Si"),
    ("phosphorus", "P"), ("sulfur", "S"), ("chlorine", "Cl"), ("argon", "Ar"), ("potassium", "K"), ("calcium", "Ca"),
    ("iron", "Fe"), ("copper", "Cu"), ("zinc", "Zn"), ("silver", "Ag"), ("tin", "Sn"), ("iodine", "I"),
    ("gold", "Au"), ("mercury", "Hg"), ("lead", "Pb"), ("uranium", "U"), ("nickel", "Ni"), ("platinum", "Pt"),
    ("titanium", "Ti"), ("boron", "B"), ("cobalt", "Co"), ("chromium", "Cr"), ("manganese", "Mn"), ("tungsten", "W"),
]
DEFINITIONS = [
    ("thermometer", "an instrument that measures temperature"),
    ("telescope", "an instrument that makes distant objects look closer"),
    ("library", "a place where books are kept for people to read or borrow"),
    ("bakery", "a shop where bread and cakes are made and sold"),
    ("glacier", "a slow-moving mass of ice on land"),
    ("volcano", "a mountain from which hot melted rock can erupt"),
    ("island", "a piece of land surrounded by water"),
    ("desert", "a dry area that gets very little rain"),
    ("harbor", "a sheltered stretch of water where ships can stay safely"),
    ("orchard", "a piece of land where fruit trees are grown"),
    ("carpenter", "a person who makes and repairs things made of wood"),
    ("pilot", "a person who flies an aircraft"),
    ("surgeon", "a doctor who performs operations"),
    ("author", "a person who writes books or articles"),
    ("referee", "a person who makes sure the rules are followed in a game"),
    ("calendar", "a chart that shows the days, weeks and months of a year"),
    ("compass", "a tool with a needle that points north"),
    ("umbrella", "a folding cover that keeps rain off a person"),
    ("ladder", "a set of steps for climbing up and down"),
    ("recipe", "a set of instructions for cooking a dish"),
    ("orbit", "the curved path of an object around a star or planet"),
    ("fossil", "the preserved remains of a plant or animal from long ago"),
    ("predator", "an animal that hunts other animals for food"),
    ("herbivore", "an animal that eats only plants"),
    ("mammal", "a warm-blooded animal that feeds its young with milk"),
    ("noun", "a word that names a person, place or thing"),
    ("verb", "a word that describes an action or a state"),
    ("adjective", "a word that describes a noun"),
    ("synonym", "a word with the same or nearly the same meaning as another word"),
    ("antonym", "a word with the opposite meaning of another word"),
    ("dictionary", "a book that lists words and explains their meanings"),
    ("museum", "a building where interesting objects are kept and shown to the public"),
    ("passport", "an official document that lets a person travel to other countries"),
    ("budget", "a plan for how to spend an amount of money"),
    ("invoice", "a document that lists what is owed for goods or services"),
    ("deadline", "the latest time by which something must be done"),
    ("password", "a secret word used to get access to something"),
    ("algorithm", "a step-by-step procedure for solving a problem"),
    ("battery", "a device that stores energy and supplies it as electricity"),
    ("magnet", "an object that attracts iron"),
    ("microscope", "an instrument that makes very small things look larger"),
    ("vaccine", "a substance that trains the body to fight a disease"),
    ("flood", "a large amount of water covering land that is usually dry"),
    ("tractor", "a strong vehicle used on farms to pull machines"),
    ("wave", "a moving ridge of water on the sea"),
    ("canyon", "a deep valley with steep sides"),
    ("peninsula", "a piece of land almost surrounded by water"),
    ("continent", "one of the large land masses of the Earth"),
    ("hemisphere", "one half of the Earth"),
    ("nest", "a home that birds build for their eggs"),
    ("burrow", "a hole in the ground that an animal digs to live in"),
    ("petal", "one of the coloured parts of a flower"),
    ("skeleton", "the frame of bones that supports a body"),
    ("lighthouse", "a tower with a bright light that guides ships"),
    ("anchor", "a heavy object that holds a ship in place"),
    ("bicycle", "a vehicle with two wheels that you pedal"),
    ("kettle", "a pot used for boiling water"),
    ("sculptor", "an artist who makes shapes out of stone, wood or metal"),
    ("orchestra", "a large group of musicians who play together"),
    ("glossary", "a list of difficult words with their meanings"),
]
SPELLING_WORDS = (
    "necessary separate definitely government environment beginning believe receive weather "
    "calendar library february tomorrow business restaurant beautiful different important interesting "
    "remember together question language knowledge children chocolate vegetable temperature especially "
    "probably immediately experience character neighbour dictionary adventure medicine mountain holiday "
    "breakfast birthday elephant hospital computer umbrella favourite description address village "
    "surprise straight guitar pleasure opposite ordinary possible quarter regular strength thousand "
    "through whether although answer approach argument attention balance bicycle building captain "
    "century certain climate comfortable continue daughter decision"
).split()
FIRST_NAMES = (
    "Maya Liam Noor Omar Lena Tariq Ana Jonas Priya Felix Sofia Kenji Amara Lucas Ines Mateo Zara "
    "Hugo Leila Ravi Elsa Nico Chloe Yusuf Mira Theo Ada Bruno Iris Samir"
).split()
SURNAMES = "Park Silva Novak Okafor Berg Rossi Haddad Tanaka Moreau Kowalski Jensen Costa Ahmed Fischer Lund".split()
CITIES = "Porto Lyon Graz Turku Bergen Ghent Split Cork Aarhus Bilbao Leiden Kraków Malmö Bologna Tartu".split()
JOBS = "nurse teacher baker pilot chemist plumber architect librarian gardener journalist engineer dentist".split()
ITEMS = "apple marble sticker pencil cookie stamp book shell coin card balloon candle".split()
FRUITS = "apples pears plums lemons mangoes peaches figs cherries grapes limes kiwis melons".split()
SORT_WORDS = (
    "river lantern maple copper velvet harbor meadow pebble thunder orchid falcon saddle walnut "
    "ember quartz tulip badger canyon dune glacier hazel ivory jasmine kettle lagoon nectar otter"
).split()

UNITS = [  # (from, to, factor) with exact integer results
    ("kilometers", "meters", 1000), ("meters", "centimeters", 100), ("kilograms", "grams", 1000),
    ("hours", "minutes", 60), ("minutes", "seconds", 60), ("liters", "milliliters", 1000),
    ("days", "hours", 24), ("weeks", "days", 7), ("feet", "inches", 12), ("centimeters", "millimeters", 10),
]


SENTIMENT_SUBJECTS = ["The soup", "The film", "This hotel", "The new phone", "Our guide", "The concert", "The service",
                      "This book", "The train ride", "The museum tour", "The coffee", "My new shoes", "The app", "The lecture"]


POSITIVE = ["was wonderful", "was a delight", "exceeded my expectations", "made my day", "was excellent",
            "was worth every penny", "left me smiling", "was truly impressive"]


NEGATIVE = ["was awful", "was a huge disappointment", "wasted my time", "was terrible", "left me angry",
            "was not worth the money", "fell apart quickly", "was painfully boring"]


REGISTER_PARTS = [  # (informal, formal) pieces of a short message; combined, they give paired sentences
    [("Hey", "Hello"), ("Hi there", "Good morning"), ("Yo", "Dear colleague")],
    [("can you send me", "could you please send me"), ("gimme", "please give me"), ("I wanna see", "I would like to see"),
     ("pls check", "please review")],
    [("the report", "the report"), ("the numbers", "the figures"), ("the pics", "the photographs"), ("the slides", "the slides"),
     ("the contract", "the contract")],
    [("asap", "as soon as possible"), ("by tmrw", "by tomorrow"), ("when u can", "when you have a moment"), ("today", "today")],
    [("Thx!", "Thank you."), ("Cheers!", "Kind regards."), ("Ta.", "Many thanks.")],
]


GRAMMAR_OBJECTS = ["to the market every Saturday", "the dishes after dinner", "a letter every week", "the bus at eight",
                   "football on Sundays", "in the choir", "the plants every morning", "coffee before work",
                   "the piano after school", "a new language every year"]


GRAMMAR_VERBS = {"to the market every Saturday": "go", "the dishes after dinner": "wash", "a letter every week": "write",
                 "the bus at eight": "catch", "football on Sundays": "watch", "in the choir": "sing",
                 "the plants every morning": "water", "coffee before work": "drink", "the piano after school": "play",
                 "a new language every year": "study"}


ARTICLE_NOUNS = ["apple", "orange", "umbrella", "egg", "island", "owl", "elephant", "envelope", "ice cream", "onion", "oven", "anchor"]


ARTICLE_FRAMES = ["There is {x} in the picture.", "He drew {x} on the board.", "She pointed at {x} in the book.",
                  "We saw {x} in the photo.", "I read a story about {x}."]
# fmt: on


def pluralize(noun: str) -> str:
    """English plural by rule, with the irregular table first.

    >>> [pluralize(w) for w in ("cat", "box", "city", "day", "child")]
    ['cats', 'boxes', 'cities', 'days', 'children']
    """
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + ("zes" if noun.endswith("iz") else "es")
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def past_tense(verb: str) -> str:
    """Simple past by rule, with the irregular and consonant-doubling tables first.

    >>> [past_tense(w) for w in ("walk", "bake", "cry", "play", "stop", "go")]
    ['walked', 'baked', 'cried', 'played', 'stopped', 'went']
    """
    for table in (IRREGULAR_PAST, DOUBLING_PAST):
        if verb in table:
            return table[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


def third_person(verb: str) -> str:
    """He/she/it form of a verb in the present tense.

    >>> [third_person(w) for w in ("walk", "watch", "carry", "go", "have")]
    ['walks', 'watches', 'carries', 'goes', 'has']
    """
    if verb == "have":
        return "has"
    if verb.endswith(("s", "x", "z", "ch", "sh", "o")):
        return verb + "es"
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"
