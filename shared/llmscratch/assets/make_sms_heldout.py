"""Generate ``sms_heldout_kinds.tsv``: spam and ham of *kinds that never occur* in ``sms_messages.tsv``.

``make_sms`` writes the chapter's data set; its test split is cut from the same file, so every test
message is a sibling of training messages (same kinds, same templates, same names and shops). A
bag of words thrives there. This module writes a second, separate test set whose scenarios,
templates, fact lists, web addresses and phone numbers were written apart from the training ones:

- spam: a disaster appeal that is not a charity, a "we traced your lost savings" recovery service,
  a stranded-sweetheart romance scam, an unclaimed inheritance, a road-toll or penalty-charge
  notice, a "your router is infected" support line, a guaranteed-return investment, a puppy that
  needs a deposit, a flat let by a landlord who is abroad, an electoral-register fine;
- ham: a landlord about the boiler, a junior sports coach, a neighbour, the school office, the
  garage with the car, a choir, a dog sitter, the allotment, a book group, moving house.

Nothing here is used for training. Both classes get the same roughening (``make_sms.roughen``,
one casualness for both) and no SHOUTING, openers or closers from the training file, so neither
style nor a stock phrase tells the classes apart; only what a message *asks for* does.
``python -m llmscratch.assets.make_sms_heldout`` rewrites the file; a test checks that the
committed file equals this module's output, and that its kinds, templates and most of its words
are absent from the training file.
"""

from __future__ import annotations

import random
from pathlib import Path

from ..fileio import atomic_write
from .make_sms import expand, roughen, to_tsv

SEED = 4711
N_PER_CLASS = 100
CASUALNESS = 0.4  # the same for both classes
OUTPUT = Path(__file__).parent / "sms_heldout_kinds.tsv"

# Fact lists, disjoint from make_sms.FACTS (names, amounts, numbers, web addresses).
FACTS: dict[str, list[str]] = {
    "hname": [
        "Bernadette",
        "Gareth",
        "Yusuf",
        "Ingrid",
        "Declan",
        "Esme",
        "Tariq",
        "Wendy",
        "Hamish",
        "Rosalind",
        "Niamh",
        "Sunil",
        "Morag",
        "Alun",
        "Dorota",
        "Percy",
    ],
    "pet": ["Biscuit", "Pepper", "Bramble", "Toffee", "Otis", "Juniper"],
    "weekday": [
        "Thursday",
        "Tuesday",
        "Wednesday",
        "Friday",
        "Monday",
    ],  # bare names: training writes "on Monday"
    "clock": ["7.45", "8.30", "quarter to 9", "half 4", "6.40", "twenty past 7"],
    "big": ["3,870", "12,400", "48,000", "6,250", "91,300", "27,650"],
    "fee": ["2.99", "4.20", "6.95", "9.99", "17.50", "38"],
    "deposit": ["140", "275", "390", "640"],
    "stake": ["240", "480", "1,250"],
    "garage_bill": ["186.40", "243.10", "97.80", "312"],
    "reg": ["KX19 FRB", "LM68 TQA", "YD21 HWS", "BN70 PZE"],
    "town": ["Carvale", "Ashbourne Ferry", "Little Dunmore", "Westholm"],
    "resort": ["Marbella", "Lisbon", "Dubai Marina", "the Algarve"],
    "breed": ["cockapoo", "French bulldog", "cavapoo", "Labrador"],
    "street": ["Elm Crescent", "Mill Lane", "Foxglove Road", "Quarry Street"],
    "crop": ["courgettes", "runner beans", "rhubarb", "tomatoes", "raspberries"],
    "book": [
        "the lighthouse novel",
        "that memoir",
        "the Norwegian crime one",
        "the sci-fi one Marion picked",
    ],
    "teacher": ["Mrs Okafor", "Mr Lindqvist", "Miss Penhaligon", "Mr Adeyemi"],
}
PHONE_RANGES = ["0113 496 0", "020 7946 0", "0808 157 0"]  # Ofcom's drama ranges, not make_sms's 07700 900xxx

HOSTS = [
    "relief",
    "hope",
    "trace",
    "estate",
    "toll",
    "shield",
    "fund",
    "pups",
    "lettings",
    "vote",
    "pitch",
    "choir",
    "plot",
    "school",
    "motors",
    "reads",
]
TLDS = ["cymru", "site", "zone", "live", "ltd"]


def make_hurl(rng: random.Random) -> str:
    """A web address on invented host words none of which ``make_sms`` uses."""
    path = "".join(rng.choice("bcdfghkmnprstvwxz") for _ in range(3)) + str(rng.randint(10, 99))
    return f"{rng.choice(HOSTS)}{rng.choice(HOSTS)}.{rng.choice(TLDS)}/{path}"


def make_hphone(rng: random.Random) -> str:
    """An invented phone number in a range Ofcom keeps for fiction (never real)."""
    return f"{rng.choice(PHONE_RANGES)}{rng.randint(0, 999):03d}"


GENERATED = {"link": make_hurl, "number": make_hphone}  # slot names make_sms.expand does not intercept

SPAM: dict[str, list[str]] = {
    "disaster_appeal": [
        "[Flooding in|The storm in|Wildfires near] {town} [has left|left] [hundreds of|400] families with nothing. £{fee} [buys a blanket|feeds a child for a week]. [Give in one tap|Donate securely|Give now]: {link}",
        "[Every minute counts|Winter is coming] for the [orphaned ponies|stray dogs|elderly] of {town}. [Pledge|Sponsor one for] £{fee} a month [here|today]: {link}",
    ],
    "funds_recovery": [
        "[Lost savings to|Were you cheated by] a [fake trading site|bogus broker|fraudulent investment]? Our [recovery|asset tracing] [team|specialists] [located|traced] £{big} [in your name|belonging to you]. [A handling fee applies|Fees are refundable], [ring|phone] {number}",
        "[Case update|Notice]: funds [stolen from you|you lost online] [have been|were] [frozen|recovered] by our [investigators|solicitors]. [Release them|Get them back] [for a small admin charge|once the release charge is settled] [via|at] {link}",
    ],
    "romance": [
        "[My darling|Sweetheart|My love], [customs at the airport|the airport officials] [are holding|have seized] the [suitcase|package] with [the gold|the jewellery] I promised you. They want £{big} [before {weekday}|to release it]. [You are my whole heart|I trust only you], [please help me|don't let me down]",
        "[Dearest|My angel] {hname}, [still on the oil rig|still posted overseas], signal is [poor|terrible]. [Once my contract pays out|When this tour ends] we can finally meet. Could you [cover my flight home|wire the ticket money]? I will repay [double|every penny]",
    ],
    "inheritance": [
        "[Dear beneficiary|Attention please], I am [barrister|solicitor] {hname} handling the estate of a [late|deceased] client who shares your surname. [Unclaimed sum|Estate value]: £{big}. [Respond|Send back] with your full name and date of birth",
        "[Confidential|Private and confidential]: a relative [you never met|abroad] [passed away|died] [leaving|and left] £{big} [with no will|unclaimed]. To [process|begin] the transfer [reply with|we need] your passport [number|details]",
    ],
    "penalty_notice": [
        "[Road toll service|Crossing charges]: [an unpaid toll|a missed crossing charge] was recorded for [your vehicle|vehicle {reg}]. Settle £{fee} [by midnight|within 48 hours] or a [penalty|surcharge] will be added: {link}",
        "Penalty charge notice [issued to|raised against] {reg}. [Pay the reduced rate|Settle at the discounted rate] [before {weekday}|within 14 days] [at|here] {link} to avoid [bailiffs|court action]",
    ],
    "tech_support": [
        "[Security team|Broadband support]: your [home router|laptop|network] [is infected with|has been hit by] [malware|a virus] and is [leaking passwords|sending data abroad]. [Phone|Ring] our engineers on {number} before [the line is cut|it spreads]",
        "[Your|The] [antivirus|virus protection] licence [lapsed|ran out] and [3|7] [threats|trojans] were [found|detected] on your device. [Renew protection|Restore your shield] [now|today]: {link}",
    ],
    "investment": [
        "[Sorry to message out of the blue|Hope you don't mind me messaging], my [uncle|mentor] manages a [gold|forex] fund that pays [8%|12%] [weekly|a week]. Minimum stake £{stake}, want the brochure?",
        "[Exclusive|Private] pre-launch: off-plan apartments in {resort}, [guaranteed|fixed] rental [yield|return] of [14%|11%]. [Reserve yours|Secure a unit] with a deposit of £{big}",
    ],
    "puppy_deposit": [
        "[Adorable|Gorgeous] {breed} [puppies|pups] [ready for their forever homes|ready to leave mum], vaccinated and microchipped. Pay a £{deposit} holding deposit and we [courier the pup to you|deliver nationwide]",
        "[Re your enquiry|About the advert]: the {breed} is still [available|yours if you want her]. I'm [working away|abroad] so [a pet courier|my agent] will [bring her|drop her round] once the £{deposit} [transport fee|insurance] is [paid|sent] via {link}",
    ],
    "rental_abroad": [
        "[Re the flat on|About the house on] {street}: I am [working abroad|overseas with the army] so cannot show it, but [the keys can be posted|my agent posts the keys] [once the deposit arrives|after you pay the first month], £{big}",
    ],
    "electoral_fine": [
        "[Electoral Registration Office|Household register]: [you have not confirmed|your household has not confirmed] [your details|who lives at your address] and may be fined [£950|up to £950]. [Confirm now|Avoid the fine] [at|via] {link}",
        "[Final|Second] [notice|warning] [to the occupier|for] [of|at] {street}: the annual household [canvass|form] is [overdue|incomplete]. [Complete it online|Respond] [by {weekday}|within 3 days] [to avoid a civil penalty|or face a £950 penalty]: {link}",
    ],
}

HAM: dict[str, list[str]] = {
    "landlord_boiler": [
        "Hi it's {hname} [your landlord|from the letting agency], the [plumber|heating engineer] is booked for the boiler {weekday} [between 8 and 12|morning], can someone let [him|her] in?",
        "[The engineer says|Update on the boiler:] the pressure valve needs replacing, [part arrives|they're back on] {weekday}. [Sorry about the cold showers|Fan heater is in the hall cupboard meanwhile]",
        "Gas safety check [next|this] {weekday} [around {clock}|morning], [is that ok with you both|does that suit]?",
    ],
    "junior_coach": [
        "U11s: [training|nets] moved to the [astro|indoor hall] {weekday} at {clock} [because the grass is waterlogged|as the pitch is flooded]. [Bring shin pads and water|Trainers not boots please]",
        "[Brilliant effort|Great effort|Well played] on Saturday [team|girls|lads]! [Player of the day|Coach's award] went to {hname}. [Subs for the term are due|Kit money to me please]",
        "[Hockey|Netball|Rugby] tournament [this|next] {weekday}: [minibus leaves|meet in the car park] at {clock}, [packed lunch needed|back by teatime]",
    ],
    "neighbour": [
        "Hi it's {hname} from number [14|7|22], your [hedge|ivy] is [leaning|growing] over the pavement, [the bin men mentioned it|a pram couldn't get by]",
        "Your cat has been sitting on our shed roof [crying|meowing] since lunch, is she locked out?",
        "We're having the driveway [resurfaced|tarmacked] {weekday}, could you [move your car|park round the corner] overnight? [Thank you!|Much appreciated]",
    ],
    "school_office": [
        "[Reminder|Note] from the school office: Year [3|4] need a [Roman|Victorian] costume for {weekday}'s history day",
        "Parents' evening: {teacher} has [ten minute|5 minute] slots {weekday} from {clock}. [Sign up on the school app|Consent and slots at {link}]",
        "[Head lice|Nits] have been [reported|spotted] in [Hazel|Rowan] class, [please check your child's hair|please check hair] [tonight|this week]",
    ],
    "garage": [
        "[Hi it's {hname} at|This is] Kingsway Motors, the MOT [passed|went through] but the rear tyres are close to the legal limit. [Car ready after {clock}|Ready for collection], [balance|total] £{garage_bill}",
        "[Your car|The Astra] needs a new [clutch cable|alternator]; [we can fit it|fitting it] {weekday} [if you're happy|if you give the go-ahead]. [Quote|Estimate] is £{garage_bill} inc parts",
    ],
    "choir": [
        "[Choir|Rehearsal]: church hall {weekday} at {clock}, [altos|tenors|sopranos] please bring the [Rutter|Fauré] scores",
        "Concert [dress|outfits] is black with a [red scarf|green tie]; doors open [6.45|7], [warm-up|tuning] [in the vestry|at the back]",
    ],
    "dog_sitter": [
        "{pet} [ate all his breakfast|wolfed his dinner] and we did the long loop by the canal. He rolled in something [awful|grim] so he's had a bath",
        "[Quick update|All good here]: {pet} [chewed a sock|barked at the postman] but [otherwise angelic|otherwise good as gold]. [Photo to follow|Back home by {clock}]",
    ],
    "allotment": [
        "[The|My] {crop} have gone mad, want a bagful? I'll [leave them by your gate|drop them round]",
        "[Water butt's|The water trough is] empty, can you turn the tap on when you're down at plot [7|12]?",
    ],
    "book_group": [
        "Finished {book} yet? [I couldn't stand the narrator|The middle dragged] but the [ending|last chapter] got me",
        "Book group is at [Marion's|Gwen's] {weekday} [at {clock}|evening], she's doing [soup|a quiche]",
    ],
    "house_move": [
        "[Removal van|The removals men] [comes|arrive] at {clock}, can you bring the [packing tape|bubble wrap] and [the big boxes|your car]?",
        "[Keys are|We got the keys] [with the estate agent|in the lockbox]! [New address|Postcode] is [12|40] {street}, {town}",
    ],
}


def make_heldout_messages(seed: int = SEED, n_per_class: int = N_PER_CLASS) -> list[tuple[str, str, str]]:
    """``2 * n_per_class`` distinct ``(label, kind, text)`` triples in a seeded random order.

    Kinds are drawn in turn (round robin over a shuffled list), so every kind is about equally common.
    """
    rng = random.Random(seed)
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for label, table in (("ham", HAM), ("spam", SPAM)):
        kinds = list(table)
        count = attempts = 0
        while count < n_per_class:
            attempts += 1
            if attempts > 100 * n_per_class:
                raise ValueError(f"could not make {n_per_class} distinct {label} messages from the templates")
            kind = kinds[attempts % len(kinds)]
            text = expand_heldout(rng.choice(table[kind]), rng)
            text = roughen(text, rng, CASUALNESS)
            if text and text not in seen:
                seen.add(text)
                out.append((label, kind, text))
                count += 1
    rng.shuffle(out)
    return out


def expand_heldout(template: str, rng: random.Random) -> str:
    """``make_sms.expand`` with this module's fact lists, web addresses and phone numbers."""
    facts = {**FACTS, **{name: [make(rng)] for name, make in GENERATED.items()}}
    return expand(template, rng, facts)


def templates() -> dict[str, list[str]]:
    """Every held-out template by kind (both classes), for the overlap checks."""
    return {**SPAM, **HAM}


def main(path: Path = OUTPUT) -> Path:
    """Write the bundled file (atomically) and return its path."""
    messages = [(label, text) for label, _, text in make_heldout_messages()]
    with atomic_write(path, "wb") as f:
        f.write(to_tsv(messages).encode("utf-8"))
    return path


if __name__ == "__main__":
    print(f"wrote {main()}")
