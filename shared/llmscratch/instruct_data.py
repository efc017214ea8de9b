"""The instruction data of chapter 7: a set we generate ourselves, and Stanford Alpaca when online.

**Bundled set** (``assets/instructions.json``): every entry is ``{instruction, input, output, kind}``,
made by ``generate_instructions()`` from templates and word/fact tables written in this file, with
a seeded ``random.Random`` so the same code always writes the same file (a test regenerates it and
compares it with the committed copy). Each answer is *computed* by the generator (a sum, a sorted
list, a looked-up table cell, a regular plural), so every output is checkable. Each question is
asked once, in one of several phrasings, so the same question never lands in two splits worded
differently. Regenerate the file with ``python -m llmscratch.instruct_data``.

**Stanford Alpaca** (52,002 entries written by OpenAI's text-davinci-003 for the Stanford Alpaca
project) is licensed CC BY-NC 4.0: *non-commercial use only*. We do not ship it; it is in the
download registry and ``load_instructions("alpaca")`` fetches it when you are online.

``load_instructions(source="bundled" | "alpaca")`` is the one-line switch between the two.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Callable, Iterator

from .assets import ASSET_DIR

__all__ = [
    "ALPACA_NOTICE",
    "CLOSED_KINDS",
    "INSTRUCTIONS_PATH",
    "KINDS",
    "generate_instructions",
    "instructions_json",
    "load_instructions",
    "write_instructions",
]

INSTRUCTIONS_PATH = ASSET_DIR / "instructions.json"
SEED = 2026
ALPACA_NOTICE = (
    "Stanford Alpaca (52,002 entries) is licensed CC BY-NC 4.0: non-commercial use only. "
    "It is downloaded when you ask for it, never bundled."
)
ALPACA_SIZE = 52_002

# Kinds whose answers repeat by construction: the split may put equal answers in train and test
# (``instruct.split_instructions`` keeps every other kind's equal answers in one split).
CLOSED_KINDS = {
    "sentiment": "the answer is one of two sentences (positive / negative), so every test answer is also a "
                 "training answer, and must be: the model learns the label, not a memorised text",
}

# ---------------------------------------------------------------------------------------------
# Word and fact tables (written for this repository)
# ---------------------------------------------------------------------------------------------

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


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _join(items: list[str]) -> str:
    return ", ".join(items)


# ---------------------------------------------------------------------------------------------
# One generator per kind. Each yields (key, instruction, input, output); the key names the
# underlying question, so a question is asked once however many phrasings exist.
# ---------------------------------------------------------------------------------------------

Item = tuple[str, str, str, str]


def _plural(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('What is the plural of "{w}"?', ""),
        ("Give the plural form of the noun below.", "{w}"),
        ('Write the plural of the word "{w}".', ""),
        ("Turn this noun into its plural.", "{w}"),
        ('How do you say more than one "{w}"?', ""),
    ]
    for w in REGULAR_NOUNS + list(IRREGULAR_PLURALS):
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'The plural of "{w}" is "{pluralize(w)}".'


def _past(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('What is the past tense of "{w}"?', ""),
        ("Give the simple past form of the verb below.", "{w}"),
        ('Write the past tense of the verb "to {w}".', ""),
        ("Change this verb to the simple past tense.", "{w}"),
        ('Yesterday I ___ (to {w}). Fill in the verb in the past tense.', ""),
    ]
    for w in REGULAR_VERBS + list(DOUBLING_PAST) + list(IRREGULAR_PAST):
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'The past tense of "{w}" is "{past_tense(w)}".'


def _antonym(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('What is the opposite of "{w}"?', ""),
        ("Give an antonym for the word below.", "{w}"),
        ('Name a word that means the opposite of "{w}".', ""),
        ("Find the antonym of this word.", "{w}"),
    ]
    for w, a in ANTONYMS:
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'The opposite of "{w}" is "{a}".'


def _synonym(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ('Give a synonym for "{w}".', ""),
        ("Suggest a word that means the same as the word below.", "{w}"),
        ('What is another word for "{w}"?', ""),
        ("Find a synonym of this word.", "{w}"),
    ]
    for w, s in SYNONYMS:
        ins, inp = rng.choice(phrasings)
        yield w, ins.format(w=w), inp.format(w=w), f'A synonym for "{w}" is "{s}".'


UNITS = [  # (from, to, factor) with exact integer results
    ("kilometers", "meters", 1000), ("meters", "centimeters", 100), ("kilograms", "grams", 1000),
    ("hours", "minutes", 60), ("minutes", "seconds", 60), ("liters", "milliliters", 1000),
    ("days", "hours", 24), ("weeks", "days", 7), ("feet", "inches", 12), ("centimeters", "millimeters", 10),
]


def _units(rng: random.Random) -> Iterator[Item]:
    phrasings = [
        ("Convert {v} {a} to {b}.", ""),
        ("How many {b} are in {v} {a}?", ""),
        ("Convert the quantity below to {b}.", "{v} {a}"),
        ("Express {v} {a} in {b}.", ""),
    ]
    for a, b, factor in UNITS:
        for v in sorted(rng.sample(range(2, 60), 9)):
            ins, inp = rng.choice(phrasings)
            ins, inp = ins.format(v=v, a=a, b=b), inp.format(v=v, a=a)
            yield f"{a}:{v}", ins, inp, f"{v} {a} is {v * factor:,} {b}."
    for c in sorted(rng.sample(range(-40, 101, 5), 12)):  # multiples of 5 Celsius are whole Fahrenheit
        f = c * 9 // 5 + 32
        ins, inp = rng.choice([("Convert {c} degrees Celsius to Fahrenheit.", ""), ("What is this temperature in degrees Fahrenheit?", "{c} °C")])
        yield f"C:{c}", ins.format(c=c), inp.format(c=c), f"{c} degrees Celsius is {f} degrees Fahrenheit."


def _arithmetic(rng: random.Random) -> Iterator[Item]:
    for i in range(110):
        name, item = rng.choice(FIRST_NAMES), rng.choice(ITEMS)
        items = pluralize(item)
        op = i % 4
        if op == 0:
            a, b = rng.randint(3, 40), rng.randint(2, 30)
            q = f"{name} has {a} {items} and gets {b} more. How many {items} does {name} have now?"
            out = f"{a} + {b} = {a + b}. {name} has {a + b} {items}."
        elif op == 1:
            a = rng.randint(10, 60)
            b = rng.randint(2, a - 1)
            q = f"{name} had {a} {items} and gave {b} of them away. How many {items} are left?"
            out = f"{a} - {b} = {a - b}. {name} has {a - b} {items} left."
        elif op == 2:
            a, b = rng.randint(2, 12), rng.randint(2, 12)
            q = f"{name} fills {a} bags with {b} {items} each. How many {items} is that in total?"
            out = f"{a} x {b} = {a * b}. That is {a * b} {items} in total."
        else:
            b, each = rng.randint(2, 9), rng.randint(2, 12)
            a = b * each
            q = f"{name} shares {a} {items} equally among {b} friends. How many {items} does each friend get?"
            out = f"{a} / {b} = {each}. Each friend gets {each} {items}."
        ins, inp = rng.choice([("Solve this word problem.", q), ("Answer the question and show the calculation.", q), (q, "")])
        yield q, ins, inp, out


def _capital(rng: random.Random) -> Iterator[Item]:
    phrasings = [("What is the capital of {c}?", ""), ("Name the capital city of the country below.", "{c}"),
                 ("Which city is the capital of {c}?", ""), ("Tell me the capital of {c}.", "")]
    for country, city in CAPITALS:
        ins, inp = rng.choice(phrasings)
        name = country[0].upper() + country[1:]
        yield country, ins.format(c=country), inp.format(c=name), f"The capital of {country} is {city}."


def _element(rng: random.Random) -> Iterator[Item]:
    phrasings = [("What is the chemical symbol for {e}?", ""), ("Give the chemical symbol of the element below.", "{e}"),
                 ("Which symbol stands for {e} in the periodic table?", "")]
    for element, symbol in ELEMENTS:
        ins, inp = rng.choice(phrasings)
        yield element, ins.format(e=element), inp.format(e=element), f"The chemical symbol for {element} is {symbol}."


def _table_lookup(rng: random.Random) -> Iterator[Item]:
    """A small stock table we make up in the input, and a question about one cell of it."""
    seen = set()
    while len(seen) < 90:
        fruits = rng.sample(FRUITS, 4)
        prices = [rng.randint(1, 9) * 10 + rng.choice((0, 5)) for _ in fruits]
        stock = [rng.randint(5, 95) for _ in fruits]
        table = "fruit | price (cents) | in stock\n" + "\n".join(f"{f} | {p} | {s}" for f, p, s in zip(fruits, prices, stock))
        if table in seen:
            continue
        seen.add(table)
        j = rng.randrange(4)
        if rng.random() < 0.5:
            ins = rng.choice(["Using the table, how much do {f} cost?", "Look up the price of {f} in the table."]).format(f=fruits[j])
            out = f"{fruits[j].capitalize()} cost {prices[j]} cents."
        else:
            ins = rng.choice(["Using the table, how many {f} are in stock?", "According to the table, how many {f} are there?"]).format(f=fruits[j])
            out = f"There are {stock[j]} {fruits[j]} in stock."
        yield table, ins, table, out


def _misspell(word: str, rng: random.Random) -> str:
    """Swap two neighbouring inner letters (never the first), so the word is wrong but recognisable."""
    while True:
        i = rng.randrange(1, len(word) - 2)
        wrong = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if wrong != word:
            return wrong


def _spelling(rng: random.Random) -> Iterator[Item]:
    phrasings = [('Correct the spelling of "{x}".', ""), ("This word is misspelled. Write it correctly.", "{x}"),
                 ('How do you spell "{x}" correctly?', ""), ("Fix the spelling mistake in the word below.", "{x}")]
    for word in SPELLING_WORDS:
        wrong = _misspell(word, rng)
        ins, inp = rng.choice(phrasings)
        yield word, ins.format(x=wrong), inp.format(x=wrong), f'The correct spelling is "{word}".'


SENTIMENT_SUBJECTS = ["The soup", "The film", "This hotel", "The new phone", "Our guide", "The concert", "The service",
                      "This book", "The train ride", "The museum tour", "The coffee", "My new shoes", "The app", "The lecture"]
POSITIVE = ["was wonderful", "was a delight", "exceeded my expectations", "made my day", "was excellent",
            "was worth every penny", "left me smiling", "was truly impressive"]
NEGATIVE = ["was awful", "was a huge disappointment", "wasted my time", "was terrible", "left me angry",
            "was not worth the money", "fell apart quickly", "was painfully boring"]


def _sentiment(rng: random.Random) -> Iterator[Item]:
    phrasings = ["Classify the sentiment of this sentence as positive or negative.",
                 "Is the following review positive or negative?", "Decide whether this sentence expresses a positive or a negative opinion.",
                 "Label the sentiment of the text: positive or negative."]
    pairs = [(s, p, "positive") for s in SENTIMENT_SUBJECTS for p in POSITIVE] + [(s, p, "negative") for s in SENTIMENT_SUBJECTS for p in NEGATIVE]
    for subject, predicate, label in rng.sample(pairs, 96):
        text = f"{subject} {predicate}."
        yield text, rng.choice(phrasings), text, f"The sentiment is {label}."


def _definition(rng: random.Random) -> Iterator[Item]:
    phrasings = ['Define the word "{w}" in one sentence.', 'What is {a}?', "Give a short definition of the word below.",
                 'Explain what the word "{w}" means.']
    for word, meaning in DEFINITIONS:
        ins = rng.choice(phrasings)
        inp = word if "below" in ins else ""
        yield word, ins.format(w=word, a=_a(word)), inp, f"{_a(word).capitalize()} is {meaning}."


def _sort(rng: random.Random) -> Iterator[Item]:
    for i in range(90):
        if i % 2 == 0:
            words = rng.sample(SORT_WORDS, rng.randint(4, 6))
            ins = rng.choice(["Sort these words in alphabetical order.", "Put the following words in alphabetical order.",
                              "Arrange the words below from A to Z."])
            yield _join(words), ins, _join(words), _join(sorted(words)) + "."
        else:
            nums = rng.sample(range(1, 100), rng.randint(4, 7))
            descending = rng.random() < 0.4
            ins = ("Sort these numbers from largest to smallest." if descending
                   else rng.choice(["Sort these numbers from smallest to largest.", "Arrange the numbers below in ascending order."]))
            yield _join(map(str, nums)) + str(descending), ins, _join(map(str, nums)), _join(map(str, sorted(nums, reverse=descending))) + "."


def _extract(rng: random.Random) -> Iterator[Item]:
    fields = {"name": "name", "age": "age", "city": "city", "job": "job"}
    for _ in range(90):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        record = {"name": f"{first} {last}", "age": str(rng.randint(19, 78)), "city": rng.choice(CITIES), "job": rng.choice(JOBS)}
        order = rng.sample(list(fields), 4)
        text = " ".join(f"{k.capitalize()}: {record[k]}." for k in order)
        field = rng.choice(order)
        ins = rng.choice(["Extract the person's {f} from the record.", "What is the {f} in this record?",
                          "From the text below, give only the {f}."]).format(f=fields[field])
        yield text + field, ins, text, record[field]


REGISTER_PARTS = [  # (informal, formal) pieces of a short message; combined, they give paired sentences
    [("Hey", "Hello"), ("Hi there", "Good morning"), ("Yo", "Dear colleague")],
    [("can you send me", "could you please send me"), ("gimme", "please give me"), ("I wanna see", "I would like to see"),
     ("pls check", "please review")],
    [("the report", "the report"), ("the numbers", "the figures"), ("the pics", "the photographs"), ("the slides", "the slides"),
     ("the contract", "the contract")],
    [("asap", "as soon as possible"), ("by tmrw", "by tomorrow"), ("when u can", "when you have a moment"), ("today", "today")],
    [("Thx!", "Thank you."), ("Cheers!", "Kind regards."), ("Ta.", "Many thanks.")],
]


def _register(rng: random.Random) -> Iterator[Item]:
    combos = [(a, b, c, d, e) for a in REGISTER_PARTS[0] for b in REGISTER_PARTS[1] for c in REGISTER_PARTS[2]
              for d in REGISTER_PARTS[3] for e in REGISTER_PARTS[4]]
    for g, req, obj, when, close in rng.sample(combos, 90):
        informal = f"{g[0]}, {req[0]} {obj[0]} {when[0]}. {close[0]}"
        formal = f"{g[1]}, {req[1]} {obj[1]} {when[1]}. {close[1]}"
        ins = rng.choice(["Rewrite this message in a formal tone.", "Make the following note more formal and polite.",
                          "Turn this casual message into formal English."])
        yield informal, ins, informal, formal


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


def _grammar(rng: random.Random) -> Iterator[Item]:
    phrasings = ["Correct the grammar of this sentence.", "Fix the grammatical mistake in the sentence below.",
                 "Rewrite the sentence with correct grammar.", "There is one grammar error here. Correct it."]
    subjects = ["She", "He", "My brother", "Our neighbour", "The teacher", "My sister", "Grandpa"] + FIRST_NAMES[:8]
    agreement = [(s, o) for s in subjects for o in GRAMMAR_OBJECTS]
    for subject, obj in rng.sample(agreement, 60):
        verb = GRAMMAR_VERBS[obj]
        wrong, right = f"{subject} {verb} {obj}.", f"{subject} {third_person(verb)} {obj}."
        yield wrong, rng.choice(phrasings), wrong, right
    articles = [(n, f) for n in ARTICLE_NOUNS for f in ARTICLE_FRAMES]
    for noun, frame in rng.sample(articles, 35):
        wrong, right = frame.format(x=f"a {noun}"), frame.format(x=f"an {noun}")
        yield wrong, rng.choice(phrasings), wrong, right


def _compare(rng: random.Random) -> Iterator[Item]:
    pairs = rng.sample([(a, b) for a in range(10, 1000, 7) for b in range(13, 1000, 11) if a != b], 80)
    for a, b in pairs:
        larger = rng.random() < 0.6
        if larger:
            ins, out = rng.choice(["Which number is larger: {a} or {b}?", "Which is bigger, {a} or {b}?"]), f"{max(a, b)} is larger than {min(a, b)}."
        else:
            ins, out = rng.choice(["Which number is smaller: {a} or {b}?", "Which is less, {a} or {b}?"]), f"{min(a, b)} is smaller than {max(a, b)}."
        yield f"{a},{b},{larger}", ins.format(a=a, b=b), "", out


KINDS: dict[str, Callable[[random.Random], Iterator[Item]]] = {
    "plural": _plural, "past_tense": _past, "antonym": _antonym, "synonym": _synonym,
    "unit_conversion": _units, "arithmetic": _arithmetic, "capital": _capital, "chemical_symbol": _element,
    "table_lookup": _table_lookup, "spelling": _spelling, "sentiment": _sentiment, "definition": _definition,
    "sort_list": _sort, "extract_field": _extract, "formal_rewrite": _register, "grammar_fix": _grammar,
    "compare_numbers": _compare,
}


def generate_instructions(seed: int = SEED) -> list[dict[str, str]]:
    """Every bundled entry, in a fixed order: ``{"instruction", "input", "output", "kind"}``.

    Each kind draws from its own ``random.Random`` (seeded from ``seed`` and the kind's name), so
    adding a kind never changes the others. A question that comes up twice is kept once.
    """
    entries: list[dict[str, str]] = []
    for kind, make in KINDS.items():
        rng = random.Random(f"{seed}:{kind}")
        seen: set[str] = set()
        for key, instruction, inp, output in make(rng):
            if key in seen:
                continue
            seen.add(key)
            entries.append({"instruction": instruction, "input": inp, "output": output, "kind": kind})
    return entries


def instructions_json(entries: list[dict[str, str]]) -> str:
    """The exact text of the committed file: one entry per line, UTF-8, newline at the end."""
    lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
    return "[\n" + lines + "\n]\n"


def write_instructions(path: str | Path = INSTRUCTIONS_PATH, seed: int = SEED) -> Path:
    """Regenerate the bundled file (``python -m llmscratch.instruct_data``)."""
    from .fileio import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(instructions_json(generate_instructions(seed)))
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Loading: bundled or Stanford Alpaca
# ---------------------------------------------------------------------------------------------


def _check_alpaca(path: Path) -> None:
    """Structure check for the Alpaca file (it publishes no checksum): 52,002 complete entries."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"not a UTF-8 JSON file ({err})") from err
    if not isinstance(data, list) or len(data) != ALPACA_SIZE:
        raise ValueError(f"expected a JSON list of {ALPACA_SIZE:,} entries, got {type(data).__name__} of {len(data) if isinstance(data, list) else '?'}")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("instruction", "input", "output")):
            raise ValueError(f"entry {i} is not a dict with string fields instruction, input and output")


def _register_alpaca():
    from .downloads import Resource, register

    return register(Resource(
        name="alpaca",
        url="https://raw.githubusercontent.com/tatsu-lab/stanford_alpaca/main/alpaca_data.json",
        sha256=None,  # the project publishes no checksum: the structure check below stands in for it
        size=None,
        filename="alpaca_data.json",
        offline='the bundled set we generated: load_instructions("bundled")',
        check=_check_alpaca,
    ))


ALPACA = _register_alpaca()


def load_instructions(source: str = "bundled") -> list[dict[str, str]]:
    """The instruction entries of ``source``: ``"bundled"`` (ours, offline) or ``"alpaca"`` (download).

    Alpaca entries get ``kind="alpaca"``. See ``ALPACA_NOTICE``: Alpaca is for non-commercial use only.
    """
    if source == "bundled":
        return json.loads(INSTRUCTIONS_PATH.read_text(encoding="utf-8"))
    if source == "alpaca":
        from .downloads import fetch

        data = json.loads(fetch(ALPACA).read_text(encoding="utf-8"))
        return [{"instruction": e["instruction"], "input": e["input"], "output": e["output"], "kind": "alpaca"} for e in data]
    raise ValueError(f'source must be "bundled" or "alpaca", got {source!r}')


if __name__ == "__main__":
    target = write_instructions(sys.argv[1] if len(sys.argv) > 1 else INSTRUCTIONS_PATH)
    print(f"wrote {len(generate_instructions())} entries to {target}")
