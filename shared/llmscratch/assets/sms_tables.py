"""The words chapter 6's bundled messages are made of: fact lists, message kinds and their templates.

Plain data we wrote, read by ``make_sms`` (which holds the template language, the roughening and the
generator itself; see its docstring for how a message is made). Each kind maps to ``(weight,
templates)``: ``HAM`` and ``SPAM`` are the two classes, ``OPENERS`` and ``CLOSERS`` decorate both
alike, and ``AMBIGUOUS`` holds messages either class can send with the very same words.
``TEXTSPEAK`` and the web-address parts feed ``make_sms.roughen`` and ``make_sms.make_url``.
Changing anything here changes ``sms_messages.tsv`` (a test compares the file with the generator).
"""

from __future__ import annotations

# Hand-laid-out tables and templates: the formatter leaves them as written.
# fmt: off
# ---------------------------------------------------------------------------------------------
# Fact lists (all invented; web addresses use made-up names, phone numbers are not real).
FACTS: dict[str, list[str]] = {
    "name": ["Sam", "Priya", "Tom", "Aisha", "Jo", "Marek", "Lena", "Dev", "Chloe", "Olu", "Ruth", "Kai", "Nina",
             "Ben", "Fatima", "Leo", "Grace", "Ivan", "Mia", "Rory", "Zainab", "Ellis", "Hana", "Callum"],
    "rel": ["mum", "dad", "nan", "babe", "hun", "mate", "bro", "sis"],
    "place": ["the station", "the library", "Costa", "the big Tesco", "the park", "the gym", "uni", "the office",
              "the pub", "the bus stop", "the cinema", "Nando's", "the leisure centre", "the car park", "the market"],
    "food": ["milk", "bread", "eggs", "pizza", "a curry", "chips", "bananas", "coffee", "teabags", "cat food",
             "loo roll", "pasta", "onions", "a birthday cake"],
    "activity": ["football", "the quiz", "badminton", "dinner", "drinks", "the film", "revision", "band practice",
                 "the gig", "swimming", "the match", "brunch", "karaoke", "yoga"],
    "day": ["today", "tonight", "tomorrow", "on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday",
            "this weekend", "on Saturday", "on Sunday", "next week"],
    "time": ["7", "half 6", "8pm", "10am", "noon", "2:30", "quarter past 5", "9ish", "6.15", "11"],
    "mins": ["5", "10", "15", "20", "30", "2", "45"],
    "amount": ["5", "10", "12.50", "20", "25", "30", "40", "50", "60", "75", "100", "150", "200", "250", "350",
               "500", "1000", "1,500", "2,000"],
    "small_amount": ["4", "5", "7.50", "8", "10", "12", "15", "18.40", "20", "22", "25", "30", "35", "40", "45", "60", "80"],
    "code": ["4821", "1937", "552013", "807164", "33190", "2468", "913402", "6620", "71035", "188274"],
    "shop": ["Brightmart", "Valuco", "ShopNest", "Homeway", "Tescorp", "Greenbasket", "MegaBuy", "Outfitly"],
    "bank": ["Northgate Bank", "Unity Savings", "Harbour Bank", "CoinTrust", "FirstLedger", "Meridian Bank"],
    "courier": ["ParcelGo", "SwiftPost", "DropDirect", "RoyalRoute", "Hermex", "ParcelNet"],
    "app": ["WhatsUp", "Snapgram", "FaceLink", "StreamBox", "Tickr", "FitPal"],
    "item": ["iPhone 16", "PlayStation 5", "£500 voucher", "holiday for two", "smart TV", "Dyson hoover",
             "year of free petrol", "MacBook", "cash prize", "luxury hamper"],
    "short": ["80082", "87121", "69988", "85069", "61610", "88600"],
    "ppm": ["1.50", "2", "3", "4.50", "1"],
    "thing": ["keys", "charger", "wallet", "umbrella", "jacket", "headphones", "glasses", "bank card", "lunch box"],
    "feeling": ["knackered", "so bored", "starving", "buzzing", "gutted", "stressed", "freezing", "well happy"],
    "event": ["the raffle", "the pub quiz", "the work bingo", "the school tombola", "the office sweepstake",
              "the fun run prize draw", "the cake contest", "the fantasy football league"],
    "prize": ["a hamper", "£50", "a bottle of wine", "a £20 voucher", "two cinema tickets", "a massive teddy",
              "a spa day", "a meat raffle tray", "£100"],
}

HAM: dict[str, tuple[float, list[str]]] = {
    # kind: (weight, templates)
    "logistics": (8, [
        "[Running|Gonna be|I'm] [late|a bit late|so late], [be there in|there in|eta] {mins} [mins|minutes][ sorry| soz|!|]",
        "[Where are you?|Where r you?|you here yet?|Are you nearly here?] [I'm at|Im outside|waiting at|at] {place}",
        "[Can you|Could you|can u] [grab|pick up|get] {food} [on the way home|from the shop|when you're out|pls][ x| thanks|!|]",
        "[Just leaving|Leaving|On my way from|Getting the bus from] {place} [now|in a sec|soon], [see you|see u|c u] [in a bit|soon|at {time}]",
        "[Have you seen my|Did I leave my|anyone seen my] {thing}[?| anywhere?| at yours?]",
        "[Train's|Bus is|The tram is] [delayed|cancelled|stuck] again[, ugh| :(|], [start without me|save me a seat|will be late]",
        "Meet [at|outside] {place} [at|around] {time}?",
        "[I'm|Im] outside",
        "[Door's|The door is] [open|unlocked], just come [in|up]",
    ]),
    "plans": (8, [
        "[Are we still on for|Still up for|Are you coming to|You going to] {activity} {day}?",
        "[Fancy|Do you fancy|Want to do|Up for] {activity} {day}? [I'm free after|Free from|Any time after] {time}",
        "[Can't make|Can't do|Gonna have to skip] {activity} {day}[, sorry|, so sorry| :(|], [something came up|work stuff|feeling rough]",
        "[Are you free|You free|Are u free] {day}? [Thought we could|We could|Maybe] [do|try|go to] {activity}",
        "[Booked|Got] the table for {time} {day}[, under my name|, it's for 6 of us|]",
        "[What time is|When's|Where is] {activity} {day}?",
        "[Sounds good|Perfect|Yeah go on|Deal], see you {day}",
        "[Lol|Haha|Hahaha] [yes|no way|same|stop it]",
        "[Ok|Okay|k|Okey dokey|Cool] [see you then|no worries|will do|]",
    ]),
    "family": (7, [
        "[Mum says|Dad says|Nan says] [dinner's at|tea's at|lunch is at] {time}[, don't be late|, bring {food}|]",
        "[Can you|Could you] [call|ring] [nan|grandad|your sister|your dad] {day}[? it's her birthday|, she misses you|]",
        "Love you {rel} x",
        "[Home safe|Got home ok|Landed safely|Made it back]{punct} [night|love you|speak tmrw|x]",
        "[Have you|Did you] [walked the dog|fed the cat|put the bins out|taken the washing in][?| yet?]",
        "[Happy birthday|Happy bday|HAPPY BIRTHDAY] {name}[!!| xx|! Have the best day|!!! 🎉]",
        "[Thanks for|Thank you for|Cheers for] [today|dinner|having us|the lift|the card]{punct} [x|xx|really needed that|]",
    ]),
    "work": (6, [
        "[Meeting|The standup|The 1:1|Our call] [moved to|is now at|pushed to] {time}[, room 4B|, same link|]",
        "[Running late for|Stuck in traffic, late for] [the meeting|work|my shift], [can you cover|tell {name}|start without me]",
        "[Can you|Could you] [swap shifts|cover my shift|do my shift] {day}? [I'll owe you|I'll do yours next week|]",
        "[Sent you the|Just emailed the|Uploaded the] [slides|report|invoice|rota|spreadsheet][, let me know what you think|, have a look when you can|]",
        "[Interview|The job interview|My assessment] [went ok|went well I think|was awful|is {day}][ fingers crossed|!|]",
        "[Payday|Pay day] {day}[ thank god| finally| lol|!]",
    ]),
    "chat": (7, [
        "[Had|What|Such] a [great|lovely|mad|brilliant] [night|time|day][, thanks|!| last night| x]",
        "[I'm|Im|Feeling] {feeling}[ today| lol| ngl|, you?]",
        "[Did you see|Have you watched|You seen] [the match|that video|the new episode|the news][?|? mad|?? omg]",
        "[Omg|OMG|Oh my god] [you have to|u need to|you'll never guess what] [hear this|see this|happened]",
        "[How was|How did] [the date|your exam|the interview|your trip|the gig][?| go?| then?]",
        "[Good luck|Best of luck|Smash it] [today|tomorrow|in your exam|with the interview][!|! x| x]",
        "[Night|Nighty night|Sleep well|Night night] x",
        "[Miss you|Missing you] [loads|already|lots][ x| xx|]",
    ]),
    # --- twins of the spam kinds below: same senders, same words, genuine content ---
    "services": (10, [
        "{courier}: [your parcel|your package|your order] [will be delivered|is due|arrives] {day} [between {time} and 6pm|before 9pm|]. [Track it at {url}|Manage your delivery at {url}|Reply STOP to opt out of texts]",
        "{courier}: [we couldn't deliver|sorry we missed you, we couldn't deliver|we tried to deliver] your parcel [today|this morning]. [It's waiting at|It has been left at|Collect it from] {place}[ with your ID|. No action needed|]",
        "{bank}: [a payment of|a card payment of] £{amount} to {shop} [was declined|needs checking]. If this wasn't you, [call the number on the back of your card|open the app and freeze your card|call us on {phone}]",
        "{bank}: your [statement|monthly summary] is ready. [View it in the app|Log in to the app to see it]",
        "{bank}: your new card is on its way. It should arrive in [3-5|2-4] working days[. Activate it in the app|]",
        "{bank}: you've set up a new payee[, {name}|]. If this wasn't you [call us on {phone}|call the number on the back of your card]",
        "[Your|The] {app} [subscription|membership|plan] [renews|will renew] {day} for £{ppm}. [Manage it in settings|No action needed|To cancel visit {url}]",
        "{shop}: [your order|your click and collect order] is ready[ to collect|]. [Collect by {day}|Show code {code} at the desk|Details at {url}]",
        "[Your|Ur] [GP surgery|dental practice|vet]: [you are due|you're now eligible|it's time] for [your flu jab|a check-up|a booster|your annual review]. [Book at {url}|Call us to book|Reply YES to book {day} at {time}]",
    ]),
    "friends_twins": (10, [
        "[Hi|Hey|Hiya] [is this|is that] {name}? [It's|This is] {name} from {activity}[, got your number off|, {name} gave me your number| - got ur number from] [the group chat|{name}|the sign-up sheet]",
        "[hey|hi] [its|it's] {name} [:)|x|!] [new number|this is my new number|lost my old phone], [save it|add me back|put this one in]",
        "Hi [mum|dad], [my phone died|phone's dead|battery's gone] so [using|this is] {name}'s phone. [Can you pick me up|Come get me] from {place} at {time}?",
        "[Mum|Dad], [can you|could you] [send me|lend me|transfer me] £{small_amount} [for the train|for food|till Friday][? I'll pay you back| pls x|, sorry x]",
        "[omg|lol|haha] [is this you|have you seen this|look at this] {url}[ 😂| hahaha|]",
        "[I made|Made] £{small_amount} [selling|from selling|flogging] [my old bike|those clothes|the sofa] [on Vinted|online|at the car boot][ lol| not bad|!]",
        "[The job is yours|You got the job|They want you]! [HR will|{name} will|They'll] [email you|send the contract|call you] {day}[ x|, well done|!!]",
        "[Sorry I missed your call|Sorry for the late reply], [was at|stuck at|I was in] {place}. [Call you back in {mins}|Ring you later|what's up?]",
        "[Hi|Hey] [mum|dad], [it's my new number|this is my new phone|new number btw], [can you|could you] [pick me up|call me|ring me] [from {place}|after {activity}|when you're free]? x",
        "[Did you pay|Have you paid] the [£{ppm}|£{small_amount}] [fee|deposit] [for the trip|for {activity}|for the parking]? [Pay at|Form is at|Link:] {url}",
        "[The parcel|Your parcel|The package] [came|arrived|got delivered] [today|this morning], [it's at|I left it at|it's waiting at] {place}[ x|, no rush|]",
        "[Can you|Could you] [send me|text me] the code [for the door|for the wifi|they sent you|from the app]? [I'm outside|locked out lol|need it now]",
        "[Hi|Hey|Hiya] [is this|is that] {name}? [Sorry|Oops], [wrong number|think I have the wrong number] [haha|sorry!|, ignore me]",
    ]),
    "mentions_scam": (9, [
        "[lol|ugh|omg] [just got a text|I just got a message|got another one] saying [I've won|I won] a {item}[, claim at {url}|, call {short} to claim|] [🙄|as if|lol|, delete]",
        "[Mum|Dad|Nan], [don't|do NOT|never] [click|open|pay] [that link|the link|anything] about [the parcel fee|a tax refund|your bank account|a prize], [it's a scam|it's fake|they're scammers][ x|!!|]",
        "[Did you|Have you] [get|had] [that|a] [text|message] from [{courier}|{bank}|the 'tax office'] [about a fee|asking for £{ppm}|saying your account is locked]? [Mine was fake|It's a scam|I reported it]",
        "[Someone|Some scammer|A random number] [texted|messaged] me pretending to be [{name}|my bank|{courier}|the council] [asking for money|wanting my details|with a dodgy link] [lol|!!|, be careful]",
        "[FYI|Heads up|Warning]: [fake|scam] [texts|messages] [going round|about] [saying|claiming] [you've won|your parcel needs a fee|your account is suspended]. [Don't click the link|Just delete them|Report them to 7726]",
    ]),
    # --- genuine messages that use the words spam is known for ---
    "won_something": (5, [
        "[I won|We won|Guess who won|OMG I won] {event}!! [Got|It's|Prize was] {prize}[ lol| haha|, drinks on me|!]",
        "[You won|Your ticket won|You've won] {event}[, come get|! Come and collect|, {name} has] your {prize}",
        "[Did|Have] you [enter|entered] {event}? [Winner gets|Prize is|First prize is] {prize}",
        "[We came|Came] [second|third|first] in the quiz[, won|! Won|, prize was] {prize}",
        "[Free|FREE] [pizza|cake|doughnuts|coffee|tea] [in the kitchen|at work|in the staff room|downstairs][ if you want some| lol|!|]",
        "[Are you|R u|You] free {day}? [I've got|Won|Got given] [free|spare|two free] tickets[ for the gig| for the match| to the cinema]",
    ]),
    "codes": (5, [
        "{code} is your {app} verification code. [Do not|Don't|Never] share it with anyone[.| - we will never ask for it.]",
        "[Your|The] {bank} [one-time passcode|security code|code] is {code}. [It expires in 10 minutes|Valid for 5 minutes|If this wasn't you, call the number on the back of your card]",
        "[The door code is|Code for the gate is|Key safe code is] {code}[, see you soon|, flat 3|]",
        "[Wifi password is|The wifi code is] [{name}{code}|sunflower{code}|house{code}]",
        "[Your|The] [parcel|order] [locker code|collection code|pin] is {code}[. Collect within 3 days|]",
    ]),
    "links": (4, [
        "[Here's the link|Link|The link] [to the photos|for the tickets|to the form|to the rota]: {url}",
        "[Found|Check] [the place|the route|the video|this] {url}[ lol| x| - looks good?|]",
        "[Sign up for|Form for|Vote for] [the trip|the quiz team|the bake sale|the 5k] here {url}[ by Friday|]",
    ]),
    "money": (5, [
        "[Can you|Could you] [send me|transfer|pay me back] [the|that] £{small_amount} [for the tickets|for the taxi|for dinner|when you can][ x|, no rush|]",
        "[Sent you|Transferred|Just paid you] £{small_amount}[ for the gas bill| for the tickets| for the hotel| back|]",
        "[Rent's|The rent is|Bills are] [due|going out] {day}, [your share is|you owe|it's] £{small_amount}",
        "[Got|I got] [paid|my refund|a tax rebate|my deposit back] [today|finally|!], £{small_amount}[ lol| woo|!]",
        "[Your|The] {shop} order [has been dispatched|is on its way|was delivered] [and will arrive {day}|- track it in the app|to your safe place][.|]",
        "{shop}: [your refund of|we have refunded] £{small_amount} [has been processed|to your card]. [Allow 3-5 working days|Thanks for shopping with us]",
    ]),
    "urgent": (4, [
        "[URGENT|Urgent|Important] [call me|ring me|phone me] [back|when you get this|asap][, it's about {rel}|, nothing bad|!]",
        "[Call me now|Ring me now|Pick up] [please|pls|!!][ it's important| the car won't start|]",
        "[Reminder|REMINDER]: [dentist|doctor's|GP|eye test|haircut] appointment {day} at {time}. [Reply C to cancel|Call us to rearrange|]",
        "[Final reminder|Last call]: [forms|money for the trip|the quiz entries] [due|in by] {day}[!|, don't forget|]",
        "[Act fast|Be quick|Hurry], [tickets|the last seats|spaces] [are going|selling out|nearly gone] for {activity}[!|, want me to get you one?]",
    ]),
}

SPAM: dict[str, tuple[float, list[str]]] = {
    "prize": (4, [
        "[Congratulations|CONGRATULATIONS|Congrats]! [You have won|You've been selected for|Your number won] a {item}! [Claim now at|Claim here|To claim visit] {url}",
        "[You are|U r|You're] [our|today's|this week's] [lucky winner|prize winner|winner]! {item} [waiting|reserved] for you. [Call|Text WIN to] {short}[ now| before midnight|]",
        "[FREE|Free] {item} [for the first 100|for you|just for replying]! Reply YES [to claim|now|]. [£{ppm}/msg|T&Cs apply|Stop to opt out]",
        "[Your mobile number|Your number|Ur mob no.] [has won|was drawn to win|won] £{amount} in our [monthly|weekly|customer] draw. [Call|Ring] {short} [to claim|now]",
    ]),
    "delivery": (3, [
        "{courier}: [your parcel|your package|a delivery] [could not be delivered|is on hold|is waiting] [due to an unpaid fee|- address incomplete|]. [Reschedule|Pay £1.99|Update details] at {url}",
        "[We missed you|Sorry we missed you|Delivery attempt failed] [today|]. [Rebook|Arrange a new slot|Confirm your address] [here|now|]: {url}",
        "[Your|A] {courier} [parcel|order] [needs|requires] [a customs payment|a small fee] of £{ppm}. [Pay here|Pay now] {url}[ or it will be returned|]",
    ]),
    "phishing": (4, [
        "{bank}: [unusual|suspicious] [activity|sign-in|payment] [on your account|detected]. [Verify|Confirm] [your identity|your details|it was you] at {url}",
        "[Your|Ur] {bank} account [has been|is] [suspended|locked|frozen]. [Log in|Restore access] [at|via] {url} [within 24 hours|today|now]",
        "[A new payee|New device|A payment of £{amount}] [was added|signed in|was made] [to your account|]. If this wasn't you [visit|go to] {url}",
        "{app}: [your account will be deleted|your subscription has expired|we could not take payment]. [Update your card|Renew now|Keep your account] at {url}",
    ]),
    "loan": (4, [
        "[Need|Short of] [cash|money] [fast|before payday|this month]? [Get|Borrow] up to £{amount} [today|in minutes], no credit check. Reply YES",
        "[You are|Ur] [pre-approved|eligible] for a £{amount} [loan|grant|payday advance]. [Apply|Get it] [now|today] {url}",
        "[Debt|Money] [problems|worries]? [The government|A new scheme] [can write off|could clear] up to 80% of [your debt|what you owe]. [Reply INFO|Check if you qualify at {url}]",
    ]),
    "casual": (6, [
        "[hey|hi|heyy] [its|it's] {name} [;)|:)|x] [got ur number from a friend|saw ur profile|remember me?], [wanna chat|fancy a chat|want to see my pics]? {url}",
        "Hi [mum|dad], [this is my new number|my phone broke, this is my new number|lost my phone, new number]. [Can you|Could you] [send me|transfer] £{amount} [for a bill|for rent|today]? [I'll pay you back tomorrow|will explain later] x",
        "[Hi|Hey|Hello] [is this|Is that] {name}? [We met at|It was nice meeting you at|Saw you at] {place} [last week|the other day]",
        "[no joke|honestly|not gonna lie] i made £{amount} [this week|yesterday|in 2 days] with [this app|crypto|this trick], [check it|have a look|try it] {url}",
        "[omg|lol|haha] [is this you in this video|have you seen this pic of you|you're in this photo]?? {url}",
        "[Hey|Hi] {name}, [sorry for the late reply|sorry i missed your call], [the job|the position|the offer] [is still open|is yours], £{amount} a day from home. [Message me on|Add me on] {app}",
        "[hey hun|hiya|hey you] [long time!|how are you?|hope you're well x] I've [started|joined] [a new business|a little side thing] [from home|online], made £{amount} last month, [want in?|fancy joining me?|can I tell you about it?] x",
        "[Hi|Hiya] it's {name} from [the school run|{activity}|next door], [can you|could you] vote for [my little one|my daughter|my son] in [the photo contest|a competition]? {url} [thanks x|means a lot x|]",
        "[Hey|Hi], {name} here [from {activity}|] [😊|:)|] are you still selling the {thing}? [I can pay today|Can pay now] [via this link|here] {url}",
        "[Hi|Hey] {name}, [it's|this is] [your cousin|an old friend|{name}], [new number|I'm stuck abroad] [and|,] [my card was blocked|lost my wallet], [can you|could you] [lend me|send] £{small_amount}? [I'll pay you back tomorrow|will explain later]",

    ]),
    "lookalike": (16, [
        "{bank}: [a payment of|a card payment of] £{amount} to {shop} [was declined|is pending|needs checking]. If this wasn't you, [call us on {phone}|reply NO|visit {url}][ to stop it| straight away|]",
        "{courier}: [we couldn't deliver|we tried to deliver] your parcel [today|this morning]. [Pay the £{ppm} redelivery fee|Choose a new date and pay £{ppm}] at {url}",
        "[Your|The] {app} [subscription|membership|plan] [has expired|could not renew|was cancelled]. [Update your card|Keep your account|Reactivate it] at {url}[ within 24 hours|]",
        "[Hi|Hey] [mum|dad], [can you|could you] [send me|lend me|transfer] £{small_amount} [for the train|for food|till Friday]? [It's my new number|Using a friend's phone|This is my new phone], [can't talk|I'll explain|will pay u back] x",
        "[Sorry I missed your call|Sorry for the late reply], [the parcel|your refund|the money] is [ready|waiting], [just|please] [confirm your details|pay the small fee] at {url}",
        "[hey|hi] [its|it's] {name} [:)|x|!] [new number|this is my new number], [did you get|can you send me] the code I [sent you|texted you] [by mistake|just now]? [pls send it back|it's urgent]",
        "[Hi|Hey|Hiya] [is this|is that] {name}? [Sorry|Oops], [wrong number|think I have the wrong number] [but you seem nice|haha], [where are you from|what do you do]?",
        "[Your|Ur] [GP surgery|NHS|dental practice]: [you are due|you are eligible] for [a free check-up|a booster|a refund]. [Book|Confirm] at {url} [and pay the £{ppm} fee|today]",
        "{bank}: [your new card is on its way|you've set up a new payee|your statement is ready]. If this wasn't you [log in at {url}|verify it at {url}|confirm your details at {url}]",
        "[Congratulations|Congrats|Well done] {name}! [You won|You've won|Your ticket won] {event}. [Collect|Claim] your {prize} at {url}",
        "[Your|The] [parcel|order] [locker code|collection code|pin] is {code}. [Pay the £{ppm} fee|Confirm your address] at {url} [to release it|first|]",
    ]),
    "premium": (3, [
        "[Your|Ur] [free|FREE] [ringtone|wallpaper|game] is [waiting|ready]! [Text|Send] [TONE|GO|PLAY] to {short}. £{ppm}/msg[, 16+|]",
        "[Bored|Lonely|Single]? [Chat to|Meet] [local|hot|real] [singles|girls|people] [tonight|now]! [Text|Send] CHAT to {short} [£{ppm}/min|£{ppm}/msg]",
        "[You have|U have] {mins} [unread|new] [messages|voicemails]. [Call|Dial] {short} [to listen|now]. [Calls cost|Cost] £{ppm}/min",
    ]),
    "refund": (3, [
        "[Revenue Office|Tax Office|HM Tax Service]: [you are|ur] [eligible for|due] a tax refund of £{amount}. [Submit your claim|Claim] at {url}",
        "[Your energy bill|Council tax] [refund|rebate] of £{amount} is [ready|pending]. [Apply|Claim] [by {day}|now] at {url}",
        "[Complete|Take] our [2 minute|quick|short] survey [and get|to receive|for] a [free|FREE] {item}[!| today!| - {url}]",
    ]),
}

# Decorations added to messages of *both* classes with the same probability.
OPENERS = ["[Hi|Hey|Hiya|Hello] {name},", "[Hi|Hey|Hello]!", "{name}!", "[Quick one|Quick q|Sorry to bother you]:", "[Hi|Hey] [mum|dad|hun|mate],",
           "[Good morning|Morning|Afternoon|Evening]!", "[FYI|Btw|PS|Oh and]"]
CLOSERS = ["[Reply|Text back|Let me know] [asap|now|when you can|today]", "[More info|Details|Info] [at|here:] {url}",
           "[Thanks|Thx|Cheers|Ta][!| x|]", "[Call|Ring] me [on|at] {phone}", "[Don't|Do not] [forget|miss out]!",
           "[See|Check] {url}", "[Happy|Have a good] [weekend|Friday|day]!", "[Thank you|Many thanks]."]

# Messages that can be genuine or a scam with the very same words (only the real sender would
# tell): both classes draw from these templates, so no classifier can get all of them right.
AMBIGUOUS = [
    "{bank}: [a payment of £{amount} to {shop} was declined|a new device signed in to your account|your card has been temporarily blocked]. [If this wasn't you|If you don't recognise this], [call us on {phone}|visit {url}|reply NO]",
    "[Hi|Hey|Hiya] [is this|is that] {name}? [We met at|It was nice meeting you at] {place} [last week|the other day|on Saturday]",
    "{courier}: [your parcel is on hold|we were unable to deliver your parcel]. [Choose a new delivery day|Confirm your address] at {url}",
    "[Hi|Hey] [mum|dad], [this is my new number|new number], [can you|could you] [send me|transfer] £{small_amount}? [I'll pay you back|x]",
]

TEXTSPEAK = [
    (r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bare\b", "r"), (r"\bto\b", "2"), (r"\bfor\b", "4"),
    (r"\btonight\b", "2nite"), (r"\btomorrow\b", "tmrw"), (r"\bplease\b", "pls"), (r"\bthanks\b", "thx"),
    (r"\bbecause\b", "cos"), (r"\bsee\b", "c"), (r"\bgreat\b", "gr8"), (r"\blater\b", "l8r"), (r"\bwhat\b", "wat"),
]

URL_WORDS = ["parcel", "track", "secure", "my", "account", "photos", "go", "get", "win", "claim", "app", "login",
             "help", "pay", "news", "club", "shop", "info", "book", "events", "share", "view", "home", "deals"]
URL_ENDS = ["com", "co.uk", "net", "info", "org", "app", "io", "top", "uk"]
SHORTENERS = ["bit.ly", "tinyurl.com", "t.ly", "goo.gl", "is.gd"]
# fmt: on
