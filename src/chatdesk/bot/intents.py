"""Rules that bring in a human: the visitor asks for a person, or is angry.

Keyword rules, not the FAQ matcher, because these must work with any FAQ (or none) and in all
six languages, and because a miss is costly: a visitor who asked for a human and got another
FAQ answer is a lost customer. The rules were first fitted to a handful of phrasings and missed
a third of real requests, so the lexicons below are written broadly, per language, the way
visitors type to a shop's chat (inflected forms, no diacritics, common typos), and each rule
carries the cue that keeps its lures out:

- asks for a person = a word for a human helper ("operator", "clovek", "konsultant") with a verb
  of talking, connecting or wanting, or alone ("operator please"); "someone"/"staff"-like words
  with a verb of talking or from a department ("someone from support"); "real/live person";
  "is anyone there"; "I don't want a bot"; "transfer me"; a callback ("call me back"). Lures:
  people as a topic ("I want to meet new people", "do your employees..."), job applications
  ("are you hiring operators?"), a phone network or tour "operator", a courier who calls.
- angry = an insult, a vulgar word or a furious idiom ("go to hell", "shame on you", "what a
  joke", crooks, amateurs); a strong negative judgement of the shop ("terrible service"); "fed
  up" with a complaint; a legal threat with a complaint; swearing that is also said happily
  ("shit", "kurva", "kurat") unless something positive and nothing negative is said; mild
  swearing ("damn", "holy shit", "sakra") only with a complaint; shouting (most letters upper
  case), or "!!!"/"?!" with a complaint word, unless the message is plainly positive ("THANK
  YOU SO MUCH!!!"). "Maybe a stupid question, but" and "thieves stole my bike" are no insults.
  Shouting or "!!!" with at most a weak complaint yields to a request for a person.

Everything is matched on folded text (lower case, no diacritics, apostrophes dropped, only
letters): ``_lexicon`` compiles each list into one regex whose alternatives share prefixes, so a
call stays a few dozen microseconds. A term matches a word by prefix (``operator`` matches
``operatorem``), a term ending in ``$`` only whole, ``_`` stands for a space. The labelled set in
tests/unit/bot/data/intents/ measures precision and recall (bench/faq_eval.py --intents prints
them). See docs/bot.md ("Pipeline", step 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from chatdesk.bot.normalize import fold, is_stopword


class Intent(StrEnum):
    """Why the visitor should get a human regardless of the FAQ."""

    ASKED_FOR_PERSON = "asked_for_person"
    ANGRY = "angry"


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A detected intent and the evidence, for `faq test` and the logs."""

    intent: Intent
    evidence: str


def _terms(*chunks: str) -> tuple[str, ...]:
    """Whitespace-separated terms; ``_`` in a term stands for a space."""
    return tuple(t.replace("_", " ") for chunk in chunks for t in chunk.split())


_Trie = dict[str, "_Trie"]


def _trie(terms: tuple[str, ...], rest: str = "") -> str:
    """The terms as one regex that shares prefixes: Python's ``re`` tries the alternatives of a
    flat ``a|b|c`` one by one, which for a few hundred terms is ten times slower."""
    root: _Trie = {}
    for term in terms:
        node = root
        for ch in term.rstrip("$"):
            node = node.setdefault(ch, {})
        node["$" if term.endswith("$") else ""] = {}
    return _node(root, rest)


def _node(node: _Trie, rest: str) -> str:
    if "" in node:  # a prefix ends here: whatever follows matches too
        return rest
    alts = ["(?![a-z])"] if "$" in node else []
    alts += [re.escape(ch) + _node(node[ch], rest) for ch in sorted(node) if ch != "$"]
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


def _alt(text: str) -> str:
    """A word list as a regex group for the patterns below (prefix terms take the rest of the
    word): a trie, because a flat alternation of many words is slow inside a pattern."""
    return "(?:" + _trie(_terms(text), rest="[a-z]*") + ")"


def _lexicon(
    terms: tuple[str, ...], patterns: tuple[str, ...] = (), *, guard: str = ""
) -> re.Pattern[str]:
    """One compiled regex: a term or a pattern at a word start of the padded folded text
    (``" " + words``). The literal leading space lets ``re`` jump from word start to word start
    instead of trying every character; ``guard`` is a lookbehind that every match must pass."""
    parts = ([_trie(terms)] if terms else []) + list(patterns)
    return re.compile(" " + guard + "(?:" + "|".join(parts) + ")")


# ---------------------------------------------------------------------------------------------
# Asks for a person
# ---------------------------------------------------------------------------------------------

# A human helper: with a verb of wanting or talking, or alone, it asks for a person.
PERSON_NOUNS = _terms(
    # en
    """human$ humans$ humen$ hooman huamn$ humna$ agent$ agents$ agnet$ operator opperator
    operater oprator operatr$ representative represenative representitive reprasentative
    reprezentative rep$ reps$ consultant consulant advisor adviser supervisor helpdesk help_desk
    service_desk call_center call_centre opeartor opertor operetor oparator opreator""",
    # cs / sk (shared stems)
    """clovek clovka$ clovkem$ clovecka$ pracovnik pracovnic konzultant konsultant poradc
    poradkyn zivy$ ziva$ zivou$ zivym$ ziveho$ zivyho$ zivej$ zivu$""",
    # pl
    """czlowiek czlekiem doradc przedstawiciel pracownik pracownic zywy$ zywa$ zywym$ zywego$
    zywej$""",
    # et
    """inimes inimene operaator teenindaj klienditeenindaj noustaj konsultan esindaj agendiga$
    agendi$ agendile$ agenti$ toetaj""",
    # lv
    """cilvek darbiniek specialist parstavi parstavis parstavim agentu$ agentam$ agenta$""",
)

# "Somebody"-like words: a human helper only with a verb of talking ("talk to someone"), never
# with plain wanting ("I need someone to carry it").
WEAK_PERSON_NOUNS = _terms(
    # en
    """person$ persons$ someone somebody anyone$ anybody$ staff employee manager colleague
    technician expert$ experts$ assistant boss$ team$ customer_service customer_support
    customer_care support$""",
    # cs
    """nekdo$ nekoho$ nekym$ nekomu$ osoba$ osobu$ osobou$ osobe$ koleg vedouc nadrizen manazer
    sef$ sefa$ sefem$ sefovi$ technik podpor zakaznick obsluh asistent zastupc zamestnanc
    zamestnanec oddeleni servis$ servisem$ bytost pani$ panem$""",
    # sk
    """niekto$ niekoho$ niekym$ niekomu$ veduc nadriaden""",
    # pl
    """ktos$ kogos$ kims$ komus$ osoby$ osobie$ kierownik przelozon menedzer szef specjalist
    obslug dzial$ dzialem$ dzialu$ biuro$ biurem$ infolini asystent zespol""",
    # et
    """keegi$ kelleg kedagi$ kellele isik kolleeg juhataja juhiga$ juhi$ juht$ ulemus
    spetsialist tehnik klienditu klienditoe klienditeenindus tugi$ toega$ tootaja meeskon""",
    # lv
    """kadu$ kadam$ kads_no vaditaj prieksniek menedzer atbalst apkalpos""",
)

# Verbs of talking, connecting or being called back (folded prefixes).
TALK = _terms(
    # en
    """talk speak speek chat$ chatting chat_with chat_to connect transfer put_me_through
    get_me_through patch_me redirect forward_me pass_me hand_me_over switch_me escalate
    a_word_with discuss get_in_touch get_hold_of call_me contact_me reach_me communicate
    give_me$ get_me$ conversation_with sort_this_out_with deal_with in_touch_with complain_to""",
    # cs / sk
    """mluv promluv hovor porozpr rozpr pokec bavit psat_si pisat_si pis_si dopisova spoj prepoj
    presmer zavol ozv kontaktova kontaktuj dejte_mi dej_mi dajte_mi daj_mi sezen probrat prebrat
    konzultova obratit dostat_se_k domluv sehn resit_s vyresit_s riesit_s vyriesit_s rozhovor""",
    # pl
    """rozmaw porozmaw pogad pisac_z napisac_z polacz przelacz przekier zadzwon oddzwon skontakt
    kontakt_z dajcie_mi daj_mi omowi zwrocic_sie rozmow zalatwic_z wyjasnic_z""",
    # et
    """raaki raagi vestel suhel kirjuta uhend suuna helista votke_uhendust votta_uhendust
    votaks_uhendust andke_mulle anna_mulle arut poord vestlus""",
    # lv
    """runa parun sarun sarakst sazin savieno parsledz parslegt paradres novirz zvan piezvan
    atzvan dodiet_man iedodiet apspriest verst piesledz pieslegt""",
)

# Verbs of wanting or asking for (with TALK, these make a helper noun a request).
WANT = _terms(
    # en
    """want wanna need give get like$ prefer request ask_for is_there are_there any$ where_is
    where_are available bring send_me may_i can_i could_i please$ pls$ plz$ let_me require
    requesting demand insist""",
    # cs / sk
    """chci$ chcem$ chtel chcel chteji$ potreb dejte$ dej$ dajte$ daj$ dostat prosim$ prosim_o
    zadam ziadam pozadat poziadat je_tam je_tu dispozic""",
    # pl
    """chce$ chcial potrzeb prosze poprosze daj$ dajcie$ dostac czy_jest dostepn moge_prosic
    wolal""",
    # et
    """tahan$ tahaks soov vajan$ vaja$ palun$ andke$ anna$ saaks kutsu""",
    # lv
    """gribu$ gribet velos$ velet vajag vajadz ludzu$ dodiet$ iedodiet$ dabut vai_ir pieejam
    pasauc""",
)

# Words that may stand next to a helper noun in a request made only of it ("operator please").
FILLER = frozenset(
    """please pls plz now asap immediately quickly urgent urgently right away just real live
    actual ok okay yes hello hi hey halo hallo talk speak chat need want
    prosim hned ihned okamzite ted rychle honem teraz rychlo prosze natychmiast szybko pilnie
    juz palun kohe kiiresti nuud ruttu ludzu tulit tagad atri steidzami""".split()
)

_REAL = _alt(
    """real$ live$ living$ actual$ genuine$ human$ flesh_and_blood$ skutecn opravdov realn
    skutocn zivy$ ziva$ zivou$ zivym$ zivymi$ ziveho$ zivyho$ zivej$ zivu$ zive$ zivemu$ zivymu$
    prawdziw zywy$ zywa$ zywym$ zywymi$ zywego$ zywej$ zywemu$ zywi$ paris$ elav toelis ists$
    ista$ istu$ istam$ istais$ isto$ istiem$ dzivs$ dzivu$ dziva$ dzivam$ dzivais$ dzivo$
    dziviem$"""
)
_PERSONISH = _alt(
    """person$ persons$ people$ someone$ somebody$ human$ humans$ being$ agent$ operator man$
    woman$ clovek osoba$ osobu$ osobou$ osobe$ osoby$ osobie$ osobo$ bytost lidmi$ lidi$ ludmi$
    ludzmi$ ludzi$ ludi$ czlowiek inimes inimene$ cilvek nekoho$ nekym$ niekoho$ niekym$ kogos$
    kims$ kellegagi$ kedagi$ konsultant konzultant teenindaj"""
)
_NOT_CAPTCHA = r"(?<!i m )(?<!im )(?<!i am )"
_EN_BOT = r"(?:bots?|robots?|chat ?bots?|ai|automated \w+|automatic repl\w*|machines?)"
_CS_BOT = _alt(
    """robot$ robota$ robotem$ robotom$ robotu$ robote$ roboti$ bot$ botem$ botom$ chatbot
    automat$ automatem$ automatom$ automatu$ strojem$ strojom$ umelou_inteligenci$ ai$"""
)
_PL_BOT = _alt(
    """bot$ bota$ botem$ botowi$ boty$ robot$ robotem$ robotowi$ automat$ automatem$ maszyna$
    ai$"""
)
_ET_BOT = _alt(
    """robot$ roboti$ robotiga$ robotile$ robotit$ bot$ boti$ botiga$ botile$ botit$ masin"""
)
_LV_BOT = _alt(
    """robots$ robotu$ robotam$ robota$ roboti$ bots$ botu$ botam$ bota$ masina$ masinu$
    masinai$ maksliga_intelekt makslig_intelekt"""
)

# Asks for a person whatever the nouns (checked before the lures below).
PERSON_PATTERNS = (
    # a real / live / living person, a human being
    _REAL + r" (?:\w+ )?" + _PERSONISH + r"(?![a-z])",
    r"(?:some ?one|some ?body|any ?one|any ?body) (?:real|alive|human|living)(?![a-z])",
    r"human being",
    r"(?:want|need|give me|get me|switch me to|connect me to|put me on|talk to|speak to"
    r"|chat with) (?:a |the |your |some )?live (?:chat|support|help)",
    r"lidsk\w* bytost\w*",
    r"(?:human|lidsk\w*|ludsk\w*|ludzk\w*|inimlik\w*) (?:help|assistance|support|pomoc\w*|abi)"
    r"(?![a-z])",
    # is anyone there / am I talking to a bot
    r"(?:is|are) (?:there )?(?:any ?one|any ?body|some ?one|some ?body) (?:\w+ )?"
    r"(?:there|here|alive|real|human|available|around|online|awake|at all)(?![a-z])",
    r"(?:any ?one|any ?body) (?:there|here|alive|home|awake|around)(?![a-z])",
    r"hello+ (?:\w+ )?(?:any ?one|any ?body)(?![a-z])",
    r"(?:am i|are we) (?:\w+ )?(?:talking|speaking|chatting|writing) (?:to|with) (?:a |an )?"
    + _EN_BOT,
    r"are you (?:a |an )?(?:real|human|live|person|bot|robot|machine|ai)(?![a-z])",
    r"who (?:can|could|should) i (?:talk|speak|chat) (?:to|with)(?![a-z])",
    r"je (?:tam|tu|tady|zde|tuna) (?:\w+ )?(?:nekdo|niekto)(?![a-z])",
    r"(?:nekdo|niekto) (?:tam|tu|tady|zde|tuna|zivy)(?![a-z])",
    r"(?:jste|ste|jsi) (?:\w+ )?(?:clovek|robot|bot)(?![a-z])",
    r"(?:mluvim|pisu|pisem|hovorim|komunikuju|komunikujem|bavim|pisete|pisem) (?:si |sa |se )?"
    r"(?:\w+ )?(?:s|so|se) (?:\w+ )?" + _CS_BOT + r"(?![a-z])",
    r"(?:ktos|ktokolwiek) (?:tam |tu |tutaj )?(?:jest|jestes|zywy|zyje)(?![a-z])",
    r"jest (?:tam |tu |tutaj )?(?:ktos|ktokolwiek)(?![a-z])",
    r"(?:jestes|jestescie|to jest) (?:\w+ )?(?:botem|robotem|czlowiekiem|automatem)",
    r"(?:rozmawiam|pisze|gadam) (?:\w+ )?z (?:\w+ )?(?:botem|robotem|automatem|maszyna)",
    r"kas (?:seal|siin|keegi) (?:on )?(?:keegi|seal|siin)(?![a-z])",
    r"keegi (?:seal|siin)(?![a-z])",
    r"(?:te olete|oled sa|olete te|sa oled|kas olete) (?:\w+ )?(?:robot|bot|inimene|masin)"
    r"(?![a-z])",
    r"ma (?:raagin|suhtlen|kirjutan|vestlen) (?:\w+ )?(?:robotiga|botiga|masinaga)",
    r"vai (?:tur|te|seit) (?:ir )?kads(?![a-z])",
    r"vai kads (?:tur|te|seit)(?![a-z])",
    r"vai ir kads (?:tur|te|seit|dzivs|cilveks)(?![a-z])",
    r"kads tur ir(?![a-z])",
    r"(?:jus esat|tu esi|esat jus|esi tu) (?:\w+ )?(?:robots|bots|cilveks|masina)(?![a-z])",
    r"es (?:runaju|sarakstos|rakstu) (?:\w+ )?ar (?:\w+ )?(?:robotu|botu|masinu)",
    # I don't want a bot
    r"(?:dont want|do not want|dont wanna|dont like|no more|stop|enough with|enough of|hate"
    r"|tired of|sick of|instead of|rather than|other than|done with|not talking to"
    r"|not chatting with|not speaking to) (?:\w+ ){0,4}?" + _EN_BOT + r"(?![a-z])",
    _NOT_CAPTCHA + r"(?:not|no) (?:with |to )?(?:a |an |the |your |this |some )?"
    r"(?:stupid |dumb |useless )?" + _EN_BOT + r"(?![a-z])",
    r"(?:nechci|nechcem|nechceme|nebavim|nebudu|nepisu|nemluvim|nehovorim|nepisem|zadny|zadneho"
    r"|zadnej|ziadny|ziadneho|uz zadn\w*|dost) (?:\w+ ){0,3}?" + _CS_BOT + r"(?![a-z])",
    r"(?:ne|nie|ne s|ne se|nie s|nie so) " + _CS_BOT + r"(?![a-z])",
    r"(?:nie chce|nie chcialbym|nie chcialabym|nie bede|nie rozmawiam|nie pisze|zaden|dosc)"
    r" (?:\w+ ){0,3}?" + _PL_BOT + r"(?![a-z])",
    r"(?:nie|nie z) " + _PL_BOT + r"(?![a-z])",
    r"(?:ei taha|ei soovi|ei tahaks|ei raagi|ei suhtle|aitab) (?:\w+ ){0,3}?"
    + _ET_BOT
    + r"(?![a-z])",
    r"mitte " + _ET_BOT + r"(?![a-z])",
    r"(?:negribu|nevelos|negribetu|nerunaju|pietiek|apnicis) (?:\w+ ){0,3}?"
    + _LV_BOT
    + r"(?![a-z])",
    r"(?:nevis|ne ar|ne) " + _LV_BOT + r"(?![a-z])",
    # ... and the other way round ("s robotem se bavit nechci")
    _CS_BOT + r" (?:\w+ ){0,3}?(?:nechci|nechcem|nebudu|nebavim)(?![a-z])",
    _PL_BOT + r" (?:\w+ ){0,3}?nie (?:chce|bede|chcialbym|chcialabym)(?![a-z])",
    _ET_BOT + r" (?:\w+ ){0,3}?ei (?:taha|soovi|tahaks)(?![a-z])",
    _LV_BOT + r" (?:\w+ ){0,3}?(?:negribu|nevelos|negribetu)(?![a-z])",
    # transfer me / connect me / put me through (to a department too)
    r"(?:connect|transfer|put|patch|redirect|forward|pass|hand|switch|route|escalate) me "
    r"(?:\w+ )?(?:to|through|over|with|onto)(?![a-z])",
    r"put me in touch",
    r"(?:spoj|prepoj|predej|predat|presmer)\w* (?:\w+ ){0,2}?(?:me|mne|ma|mna)(?![a-z])",
    r"(?:me|mne|ma|mna) (?:\w+ ){0,2}?(?:spoj|prepoj|predat|presmer)\w*",
    r"prepoj\w* (?:\w+ ){0,2}?(?:na|k|ke|s|se|so)(?![a-z])",
    r"(?:polacz|przelacz|przekier|przekaz)\w* (?:\w+ ){0,2}?(?:mnie|mna)(?![a-z])",
    r"mnie (?:\w+ ){0,2}?(?:polacz|przelacz|przekier|przekaz)\w*",
    r"(?:uhend|suuna|edasta)\w* (?:\w+ ){0,2}?mind(?![a-z])",
    r"mind (?:\w+ ){0,2}?(?:uhend|suuna|edasta)\w*",
    r"(?:savieno|parsledz|parslegt|paradres|novirz|nodod)\w* (?:\w+ ){0,2}?mani(?![a-z])",
    r"mani (?:\w+ ){0,2}?(?:savieno|parsledz|parslegt|paradres|novirz|nodot)\w*",
    # give me / I want someone from support
    r"(?:want|need|get|give|like|find) (?:me )?(?:to (?:speak|talk|chat) (?:to|with) )?"
    r"(?:some ?one|some ?body|any ?one) (?:\w+ )?(?:from|in|at|of) (?:the |your )?"
    r"(?:support|customer|sales|billing|service|team|staff|office|shop|tech|technical"
    r"|complaints|returns|company|management|accounts?|help|department)",
    r"(?:chci|chtel\w*|chcem|chcel\w*|potreb\w*|dejte|dej|dajte|daj|sezen\w*|prosim o|prosim)"
    r" (?:\w+ ){0,3}?(?:nekoho|nekym|niekoho|niekym) (?:z|ze|zo|od)(?![a-z])",
    r"(?:chce|chcial\w*|potrzeb\w*|dajcie|daj|prosze o|poprosze|prosze|prosic) (?:\w+ ){0,3}?"
    r"(?:kogos|z kims) z(?![a-z])",
    r"(?:tahan|tahaksin|soovin|vajan|andke|anna|palun) (?:\w+ ){0,2}?kedagi (?:\w+ )?\w+st"
    r"(?![a-z])",
    r"(?:gribu|gribetu|velos|veletos|vajag|dodiet|iedodiet|ludzu) (?:\w+ ){0,3}?kadu no"
    r"(?![a-z])",
)

# A callback request asks for a person too, unless a courier is the one to call.
_NOT_REFUSAL = r"(?<!dont )(?<!not )(?<!never )(?<!stop )"
CALLBACK_PATTERNS = (
    r"call ?back",
    _NOT_REFUSAL + r"(?:call|phone|ring|contact) me(?![a-z])",
    r"give me a (?:call|ring|phone call)",
    r"(?:get back|get in touch|reach out) (?:to|with) me(?![a-z])",
    r"(?:zavol|zavolat|zavolej|volejte|volajte|zavolaj|ozv|kontaktuj|kontaktova)\w* "
    r"(?:\w+ ){0,3}?(?:mi|me|mne|ma|mna)(?![a-z])",
    r"(?:mi|mne|me|ma) (?:\w+ ){0,3}?(?:zavola|zavolat|zavolej|volat|ozv|kontaktova"
    r"|kontaktuj)\w*",
    r"(?:zpetn|spatn)\w* (?:\w+ )?volan\w*",
    r"oddzwon\w*",
    r"(?:zadzwon|skontaktuj|kontaktuj)\w* (?:\w+ ){0,2}?(?:do mnie|mnie|ze mna|z mna)(?![a-z])",
    r"(?:do mnie|ze mna|z mna) (?:\w+ ){0,2}?(?:zadzwon|skontakt|oddzwon)\w*",
    r"prosze o (?:\w+ )?(?:kontakt|telefon|oddzwonienie)(?![a-z])(?! do)",
    r"helista\w* (?:\w+ ){0,2}?(?:mulle|tagasi|mind)(?![a-z])",
    r"mulle (?:\w+ ){0,2}?helista\w*",
    r"tagasihelist\w*",
    r"(?:votke|votaks|votta|voiks votta) minuga uhendust",
    r"minuga (?:\w+ )?uhendust",
    r"(?:piezvan|atzvan|zvan)\w* (?:\w+ ){0,2}?man(?![a-z])",
    r"man (?:\w+ ){0,2}?(?:piezvan|atzvan)\w*",
    r"atzvan\w*",
    r"sazin\w* ar mani",
)
COURIER = _terms(
    """courier driver delivery_guy delivery_man postman postie dpd$ gls$ ppl$ dhl$ inpost omniva
    kuryr kurier kurjer kuller ridic vodic kierowc autojuht sofer zasilkov packeta balikovn""",
)

# People as a topic: the message is about people, not asking for one.
PEOPLE = _terms(
    """people$ peoples$ lide$ lidi$ lidem$ lidmi$ ludzi$ ludzie$ ludzmi$ ludia$ ludi$ ludom$
    inimesed$ inimesi$ inimestega$ inimestele$ inimeste$ cilveki$ cilvekus$ cilvekiem$
    how_many_person mitu_inimest cik_cilveku kolik_osob ile_osob kolko_osob pro_jinou_osobu
    pre_inu_osobu dla_innej_osoby""",
)

# Staff, operators or agents as a topic ("do your employees..."), or a job application.
STAFF_TOPIC_PATTERNS = (
    r"(?:do|does|did|will|would|were|how many|what do) (?:all )?(?:your|any of your) (?:\w+ )?"
    r"(?:employees|staff|workers|operators|agents|consultants|representatives|reps|technicians"
    r"|team|mechanics|colleagues|advisors)(?![a-z])",
    r"your (?:\w+ )?(?:employees|staff|workers|operators|agents|consultants|technicians"
    r"|mechanics) (?:are|were|speak|know|have|get|work|wear|use|do)(?![a-z])",
    r"employee (?:discount|benefits|card)",
    r"(?:vasi|vase|vasich|kolik) (?:\w+ )?(?:zamestnanci|zamestnancu|operatori|operatoru"
    r"|operatorky|pracovnici|pracovniku|konzultanti|poradci|technici|kolegove|prodavaci"
    r"|mechanici|zamestnancov|operatorov|pracovnikov|poradcovia|kolegovia)(?![a-z])",
    r"(?:wasi|wasze|czy|ilu|ile) (?:\w+ )?(?:pracownicy|pracownikow|konsultanci|konsultantki"
    r"|konsultantow|doradcy|operatorzy|technicy|serwisanci)(?![a-z])",
    r"(?:teie|kas) (?:\w+ )?(?:tootajad|teenindajad|konsultandid|operaatorid|tehnikud"
    r"|kolleegid)(?![a-z])",
    r"mitu (?:\w+ )?(?:tootajat|teenindajat|konsultanti)(?![a-z])",
    r"(?:jusu|vai) (?:\w+ )?(?:darbinieki|konsultanti|operatori|specialisti|tehniki|kolegi)"
    r"(?![a-z])",
    r"cik (?:\w+ )?(?:darbinieku|konsultantu|operatoru)(?![a-z])",
)
JOB = _terms(
    # en
    """hiring$ vacanc job_offer job_opening a_job$ jobs$ career recruit internship work_for_you
    work_with_you work_as working_as apply_for_the apply_for_a position_of open_position my_cv
    my_resume cv$ salary wage$""",
    # cs / sk
    """nabirate prijimate volne_misto volna_pozice volne_miesto volna_pozicia pracovni_pozic
    pracovni_mist pracovna_pozic na_pozici o_pozici na_poziciu o_poziciu brigad zivotopis
    pracovat_u_vas pracovat_jako pracovat_pro_vas pracovat_ako pracovat_pre_vas nabidka_prace
    nabidku_prace ponuka_prace hledam_praci hladam_pracu zamestnani$ zamestnanie$ uchazec
    uchadzac vyberov""",
    # pl
    """rekrut zatrudnia oferta_pracy oferty_pracy ofert_pracy wakat szukam_pracy pracowac_jako
    pracowac_u_was pracowac_dla_was pracy_jako prace_jako stanowisk aplikowac aplikuje staz$
    praktyk""",
    # et
    """toopakkumi vaba_tookoh tookoh varba toole_tulla toole_kandideeri kandideeri ametikoh
    praktika""",
    # lv
    """vakanc darba_piedavajum pienemat_darba pienemsiet_darba stradat_pie_jums stradat_par
    mekleju_darbu pieteikties_darbam pieteikties_vakance pieteikties_amatam amats$ amatu$ prakse""",
)
_ROLE = (
    r"(?:agent|operator|representative|consultant|rep|employee|advisor|operator\w*|konzultant\w*"
    r"|poradc\w*|zastupc\w*|pracovnik\w*|konsultant\w*|doradc\w*|przedstawiciel\w*|pracownik\w*"
    r"|teenindaja\w*|konsultandi\w*|operaatori\w*|tootaja\w*|darbiniek\w*|specialist\w*)"
)
JOB_PATTERNS = (
    r"(?:hledate|hladate|szukacie|otsite|meklejat) (?:\w+ )?(?:operator\w*|pracovnik\w*"
    r"|zamestnan\w*|konzultant\w*|konsultant\w*|brigadnik\w*|pracownik\w*|lidi|ludi|osob\w*"
    r"|tootaja\w*|teenindaja\w*|operaator\w*|darbiniek\w*)",
    r"(?:become|becoming|stat se|stanu|stat sa|stanem|zostac|zostane|saada|klut par|klut)"
    r" (?:an? )?(?:\w+ )?" + _ROLE + r"(?![a-z])",
)

# An "operator" that is a phone network, a tour company or a machine's driver.
OPERATOR_CONTEXT = _terms(
    """licence license licen mobile network sim$ sims$ tariff tarif roaming coverage carrier
    tour$ forklift crane machine_operator data_plan prepaid top_up porting port_my_number mobiln
    siti$ siet pokryt preneseni_cisla prenos_cisla prenesenie_cisla cestovn vysokozdvizn
    komorkow siec sieci taryf zasieg abonament przeniesienie_numeru biuro_podrozy touroperator
    vorgu tariif levi$ leviala sakaru tikl viesab parklajum""",
)

# Not a request for a helper although a helper word occurs.
PERSON_NOISE = _lexicon(
    _terms(
        """human_resources human_rights human_error human_hair human_body human_nature
        human_street human_grade agent_app agent_software agent_program travel_agent
        estate_agent real_estate_agent user_agent shipping_agent customs_agent secret_agent
        lidske_zdroje lidskych_zdroju personalni_oddeleni""",
    )
)

# ---------------------------------------------------------------------------------------------
# Angry
# ---------------------------------------------------------------------------------------------

# Insults, vulgar words, furious idioms, crooks and amateurs: angry on their own.
INSULTS = _terms(
    # en
    """idiot moron imbecil cretin stupid$ stupidest$ dumb$ dumbass dumbest$ asshole arsehole
    pain_in_the_ass pain_in_the_arse jackass dickhead dick$ dicks$ prick$ pricks$ bastard bitch
    wanker twat$ twats$ cunt bollocks scum scandal skandal skandaal damn_you are_you_kidding_me
    you_must_be_kidding youve_got_to_be_kidding daylight_robbery scammer fraudster shitty
    shithole shitshow bullshit horseshit crappy fucked_up fuck_you fuck_off fuck_this fuck_that
    fuckers$ fucker$ motherfuck pathetic ridiculous$ absurd$ absurdn absurdal absurds$
    incompetent incompetence clown$ clowns$ amateurs$ amateur_hour disgrace disgusting disgusted
    outrageous$ shameful shame_on_you what_a_joke this_is_a_joke its_a_joke joke_of_a
    such_a_joke is_a_joke are_a_joke you_are_a_joke youre_a_joke a_complete_joke piss_off pissed
    sod_off bugger_off go_to_hell burn_in_hell rot_in_hell screw_you kiss_my eat_shit
    thanks_for_nothing furious livid outraged infuriat enraged im_angry i_am_angry so_angry
    very_angry really_angry makes_me_angry angry_customer unacceptable shambles liars$ liar$
    you_lied lying_to brain_dead braindead halfwit nitwit numpty muppet tosser knobhead bellend
    never_again never_ordering never_buying never_shopping never_order_from never_buy_from
    never_use_you never_recommend losers$ morons""",
    # cs
    """debil kretin kreten blbec$ blbci$ blbce$ blbcu$ blbcum$ blbecek dement$ dementi$ dementni
    magor pitom hlupak hlupac hloupy$ hloupa$ hloupi$ hloupych$ zkurven zkurvysyn skurvy skurven
    hovno hovna$ hovnem$ hovad sracka sracky$ sracku$ sracko posran posrat posral zasran nasran
    nasrat naser sere$ serete seres$ serou$ seru$ vyser hajzl hajzel hajzle$ svine$ svino$
    svinsk svinstvo zmrd curak kokot pico$ picus picovin do_pice do_pici jebat jebl$ jeblo
    jebnut vyjeb ojeb zjeb kurvy$ podvodnik podvodnic smejd vysmech fraska ostuda ostudn hanebn
    stydte_se stydet_by nehorazn skandaln neschopn amateri$ amatery$ amaterove$ amaterum$
    diletant trapny$ trapna$ trapnou$ trapas to_je_trapne je_to_trapne uboh zalostn vul$ volove$
    buzerant prdeli$ prdel$ polib_mi polibte_mi si_delate_srandu si_delate_prdel
    si_delate_legraci delate_si_srandu delate_si_prdel delate_si_ze_me to_snad_nemyslite
    jdete_do_haje jdete_do_prdele jdete_do_hajzlu jdete_do_pekla jdete_do_kopru jdi_do_haje
    jdi_do_prdele jdi_do_hajzlu jdi_do_pekla trhni_si trhnete_si vylizte nastvan rozzuren vztekl
    vzteky rozcilen co_si_to_dovolujete jak_si_dovolujete co_si_dovolujete neslychan drzost
    uz_nikdy_nenakoup uz_nikdy_nic uz_nikdy_vic nikdy_vice nikdy_vic uplne_mimo jste_mimo
    kaslete_na kaslat_na vykasl k_smichu k_posmechu dik_za_nic diky_za_nic dekuji_za_nic
    dekuju_za_nic mam_vas_dost""",
    # sk
    """somar hlupy$ hlupa$ hlupi$ hlupak hlupac hlupost zjeban dojeban pojeban vyjeban jebnut
    v_riti polib_mi_rit srac posraty$ posrata$ svina$ klamar hanbite_sa mali_by_ste_sa
    robite_si_srandu robite_si_prdel robite_si_zo_mna chodte_do_riti chod_do_riti
    chodte_do_prdele chod_do_prdele chodte_do_pekla chod_do_pekla chodte_do_pice chod_do_pice
    chodte_do_haja chod_do_haja ste_mimo uz_nikdy_nenakup uz_nikdy_viac dakujem_za_nic
    vdaka_za_nic nahnevan nasraty$ nasrata$ nasrati$ zuriv""",
    # pl
    """chujow chujni huj$ hujow pierdolon pierdolen pierdolic pierdolcie pierdolisz pierdolicie
    spierdal wypierdal odpierdal odpierdol popierdol spierdol rozpierdol napierdal przepierdol
    jeban jebac jebie$ jebn zjeb pojeb przejeb rozjeb dojeb odjeb gown w_dupie w_dupe dupek
    dupki$ dupkow pizda$ pizdy$ pizdo$ pizde$ pizdzie$ skurw kretyn glupi$ glupia$ glupie$
    glupek glupc glupot matol palant cwel frajer oszusci$ oszuscie$ naciagacz kretacz kretactw
    zenad zenujac kpin wstydzcie jak_wam_nie_wstyd nie_wstyd_wam nie_macie_wstydu wstyd_i_hanba
    wstyd_wam co_za_cyrk to_jest_cyrk jakis_cyrk to_cyrk totalne_dno to_jest_dno dno_i_wodorosty
    dno_dna partacz amatorzy$ amatorow$ amatorszczyzn niekompetent beznadziejn zalosn spadaj
    odwal_sie odczep_sie idz_do_diabla idzcie_do_diabla nabijacie_sie robicie_sobie_jaja
    robicie_sobie_zarty smiech_na_sali wsciekl wkurz wkurw wnerw dziadostw badziew szajs syf$
    olewa nienormaln paranoj dzieki_za_nic bezczeln nigdy_wiecej juz_nigdy_nie_kupie
    juz_nigdy_nie_zamowie macie_to_gdzies macie_gdzies mam_was_dosc""",
    # et
    """idioot idiood debiil loll$ lollid$ lollakas lolli$ lolle$ tola$ tolad$ tobu$ tobud$ jobu$
    jobud nome$ nomedad ajuvaba ajutu$ ajutud$ molakas vardjas lits$ persse perse$ mine_metsa
    minge_metsa mine_porgusse minge_porgusse kao_ara kasige_ara sitapea pask$ paska$ petis
    petised kelm habi_teile habiv habemat naljanumber see_on_nali mis_nali mingi_nali tsirkus
    kasutu$ kasutud$ saamatu amatoorid ebakompetent monita vihane vihastan marus raevu lollus$
    jultunud mitte_kunagi_enam enam_mitte_kunagi enam_kunagi taielik_jama teete_nalja
    aitah_mitte_millegi teil_on_ukskoik""",
    # lv
    """stulb mulkis mulki$ mulku$ dirs suda$ sudigs sudiga sudigi sudigu nahuj nahui nahren huin
    hujn huja$ huj$ pohuj pidar mauka dranki drankis drankig krapniek blez$ blezi$ apzag ej_elle
    ejiet_elle ej_dirst ejiet_dirst ej_rata ejiet_rata ej_pie_velna ejiet_pie_velna kauns_jums
    kaunieties ka_jums_nav_kauna kauns_un_negods apsmiekl nirga tas_ir_cirks kaut_kads_cirks
    kas_par_cirku nejeg diletant amatieri$ nekompetent nekam_nederig tas_ir_joks kads_joks
    dusmig nikn saniknot jokojat nekaunib neprats$ nekad_vairs jums_ir_vienalga jums_vienalga
    paldies_par_neko""",
)

# "Shame!" alone is a reproach, "I'm ashamed to ask" is not.
INSULT_PATTERNS = (
    r"(?<!man ir )(?<!man )kauns(?![a-z])",
    r"(?<!mi )(?<!se )hanba(?![a-z])",
    r"wstyd(?! mi| sie| przyznac| pytac| zapytac)(?![a-z])",
    r"(?<!on )habi(?![a-z])",
    # never again, in so many words
    r"never (?:\w+ ){0,3}?(?:buy|order|shop|use)\w* (?:\w+ ){0,3}?(?:again|from you|with you"
    r"|at your|here)(?![a-z])",
    r"(?:nikdy|nigdy|nekad) (?:\w+ ){0,3}?(?:nenakoupim|nenakoupime|neobjednam|neobjedname"
    r"|nekoupim|nenakupim|nekupim|nie kupie|nie zamowie|nepirksu|nepasutisu)(?![a-z])",
    r"(?:kunagi|enam) (?:\w+ ){0,3}?ei (?:osta|telli)\w*",
)

# Thieves are the shop ("you thieves!") unless a bike was stolen ("thieves took my bike").
THIEVES = _terms(
    """crook$ crooks$ thief$ thieves$ thieving zlodej okrad zlodziej zlodzie vargad vargaid
    varastate zaglis$ zagli$ zaglu$ zagliem$ apzag""",
)
THEFT = _terms(
    """stolen stole$ steal theft lock$ insurance police ukradl ukraden kradez zamek zamk pojist
    polici ukradnut zamok poist skradzion kradziez zapiec ubezpiecz varastati varastatud vargus
    lukk kindlustus politsei nozag zadzib sledzen apdrosin policij""",
)

# Fraud words are no insult when the visitor reports a phishing message to the shop.
SCAM = _terms(
    """scam$ scams$ scammed scamming fraud$ frauds$ fraudulent rip_off ripoff ripped_off
    ripping_me_off ripping_people_off podvod$ podvodu$ podvodem$ podvody$ podvodny podvodna
    podvodne oszustw oszuk naciagn pettus petta$ petate$ petsite$ petsid$ petetud krapniecib
    krapsan bledib""",
)
PHISHING = _terms(
    """email e_mail mail$ sms$ text_message phishing pretend fake_ link$ odkaz zprav sprav
    wiadomosc podszyw kiri$ kirja$ sonum zina$ zinu$ saite e_pasts e_pastu""",
)

# Swearing that is also said happily: angry unless the message says something positive and
# nothing negative.
SWEARS = _terms(
    """fuck fck$ fckn fking fkn fuk$ fukin effing wtf$ shit$ shits$ shitting sh_t$ crap$
    the_hell$ the_heck$ ass$ arse$ sucks$ suck$ sucked$ piss$ kurva$ kurevsk do_prdele doprdele
    prdele$ kurwa$ kurwo$ kurwy$ kurwi kurewsk ja_pierdole pierdole$ chuj$ chuja$ chujem$ wyjeb
    dupa$ do_pice dopice do_riti doriti kurat$ kuradi$ kuradid$ kurad$ kuradit$ kuradima$ sitt$
    sita$ sitane sitaks sitta$ neetud pizdec bljad$ bladj blyat$ blya$ bljat$ blag$ blagj suds$
    sudi$ mesli$ mesls$ nolad pie_velna""",
)

# Mild swearing and exclamations: angry only with a complaint.
MILD = _terms(
    """damn dammit goddamn damned hell$ bloody$ freaking frigging frickin holy_shit holy_crap
    holy_fuck holy_cow omg$ oh_my_god jeez jesus$ christ$ sakra sakr safra krucinal kruci$
    ty_vole vole$ do_haje do_prcic kurna$ kurnik dopekla do_pekla do_kelu dofrasa do_frasa
    do_certa docerta kurde kurcze cholera kurka_wodna o_matko jezu$ do_diabla raisk pagan
    jumal_kull velns$ velna$ blin$""",
)

# Fed up: angry about the shop or with a complaint ("sick of waiting"), not about an old bike.
FED_UP = _terms(
    """fed_up sick_of sick_and_tired had_enough mam_dost mam_toho_dost toho_mam_dost mam_dosc
    mam_tego_dosc plne_zuby po_krk korini apnicis apnika""",
)

# A strong negative judgement: angry with the shop as its target, a strong complaint otherwise.
JUDGEMENT = _terms(
    # en
    """terrible awful horrible horrendous atrocious worst$ appalling dreadful abysmal lousy
    garbage trash$ rubbish junk$ disaster nightmare useless$ hopeless$ waste_of_time
    waste_of_money""",
    # cs / sk
    """hrozny$ hrozna$ hroznou$ hrozneho$ hroznem$ hroznych$ strasny$ strasna$ strasnou$
    strasneho$ otresn otrasn prisern katastrof nejhorsi najhorsi tragick tragedi desny$ desna$
    desnou$ zoufaly$ zoufala$ zoufalou$ zoufaleho$ zufaly$ zufala$ zufalu$ mizern bidn nechutn
    odporn hnus skandal k_nicemu je_na_nic jsou_na_nic to_je_na_nic je_to_na_nic uplne_na_nic
    na_nic_to_je""",
    # pl
    """okropn straszny$ straszna$ strasznej$ strasznego$ najgorsz tragiczn fataln koszmar porazk
    obrzydl skandal do_dupy do_niczego""",
    # et
    """kohutav$ kohutava kohutavat katastroof halvim oudne$ oudse vastik vastuvot skandaal jamps
    jaburus mottetu solvav ilge$ ilged""",
    # lv
    """briesmigs briesmiga briesmigu drausmigs drausmiga sausmigs sausmiga vissliktak sliktak
    pretig riebig skandal bezjedzig""",
)

# Something is broken or nobody reacts: a strong complaint (but no anger on its own: "the app
# is not working, can you help?" is a support question).
FAILURE = _terms(
    # en
    """not_working doesnt_work dont_work didnt_work wont_work isnt_working stopped_working
    broken$ still_not still_no still_nothing still_waiting still_havent still_hasnt still_didnt
    never_arrived never_received never_came no_one_answers nobody_answers no_response no_reply
    no_answer ignored ignoring disappointed unhappy upset frustrat annoyed annoying
    is_this_a_joke angry$ enough_is_enough not_happy not_good not_great not_impressed not_ok
    not_okay not_acceptable ruined you_dont_care nobody_cares kidding ignor""",
    # cs / sk
    """nefung nejde$ nejdou$ rozbit poskozen poskoden nedoruc neprisl nedorazil neodpovid
    neodpoved neozval nikdo_neodpovida porad_nic porad_ne stale_nic stale_ne furt_nic nespokojen
    nespokojn nejsem_spokojen nie_som_spokojn zklam sklaman vam_je_to_jedno je_vam_to_jedno""",
    # pl
    """nie_dziala nie_dzialaj zepsu uszkodz nie_dotarl nie_doszl nie_przyszl nikt_nie_odpowiada
    nie_odpowiadacie nadal_nic dalej_nic wciaz_nic niezadowol nie_jestem_zadowol rozczarow
    zdenerwowan dramat$""",
    # et
    """ei_toota ei_tootaa katki$ purunen ei_jou ei_joudnud ei_vasta pole_vastanud ikka_pole
    ikka_ei ikka_mitte endiselt_ei pettunud rahulolematu pole_rahul ei_ole_rahul""",
    # lv
    """nestrada nedarbojas salauz sabojat neatnac neatbild nav_atbild joprojam_nav
    vel_arvien_nav joprojam_nekas neapmierin neesmu_apmierin vilies vilsies nekad_vairs apnicis
    apnika mulkib""",
)

# Complaint words that alone are no anger, but make "!!", shouting or mild swearing angry
# unless the message is positive.
WEAK_COMPLAINT = _terms(
    # en
    """again$ never$ nothing$ nobody$ no_one noone why$ waiting waited weeks$ late$ delay refund
    money_back cancel wrong$ missing$ lost$ complain complaint hasnt$ havent$ didnt$ doesnt$
    cant$ not$ bad$ joke$ seriously$ answer_me hurry_up unbelievable cant_believe mad$""",
    # cs / sk
    """zase$ opet$ znova$ znovu$ nikdy$ nic$ nikdo$ nikto$ proc$ preco$ cekam cakam tyden$
    tydny$ tyzden mesic$ mesiac pozde$ neskoro zpozd meska vratit vraceni reklamac storno zrus
    spatn zle$ zly$ nedostal nemuzu$ nemozem hrozne$ strasne$ smiesn""",
    # pl
    """znowu$ znow$ nigdy$ nikt$ dlaczego$ czemu$ czekam tydzien tygodni miesiac spozni opozni
    zwrot anul zla$ nie_dostal nie_moge strasznie masakr""",
    # et
    """jalle$ taas$ kunagi$ mitte_midagi keegi_ei miks$ ootan kuu$ hilja hiline hilin
    raha_tagasi tuhist vale$ halb$ viga$ jube$ jama$ kohutavalt oudselt""",
    # lv
    """atkal$ nekad$ nekas$ neviens$ kapec$ gaidu nedel menes kavej naudu_atpakal atcel nepareiz
    slikt kluda nesanem briesmigi sausmigi drausmigi""",
)

# A target for a negative judgement: the shop, its service or its people.
TARGET = _terms(
    """service company shop$ store$ support customer_service firm business website site$ app$
    bot$ chatbot experience delivery courier communication staff team$ you$ ever$ in_my_life
    sluzb servis firm obchod eshop e_shop prodejc podpor pristup zkusenost skusenost doprav
    doruc komunikac zakaznick aplikac web$ webu$ jste$ ste$ obslug serwis sklep wsparc podejsc
    doswiadcz dostaw kurier jestescie stron teenindus teenus ettevot pood$ poe$ poodi klienditu
    klienditoe kogemus tarne kuller suhtlus olete$ rakendus serviss apkalpos uznemum veikal
    atbalst pieredz piegad kurjer esat$ lietotn majaslap""",
)

# Lawyers, courts and consumer authorities: angry with a threat or a complaint.
LEGAL = _terms(
    """lawyer attorney sue$ suing court$ legal_action small_claims trading_standards ombudsman
    consumer_protection report_you chargeback pravnik advokat soudu$ soudem$ k_soudu soudni
    zalob zazaluj zalovat coi$ obchodni_inspekc soi$ sudu$ sudom$ k_sudu zazalujem inspekci
    prawnik adwokat do_sadu w_sadzie sadown pozew pozwe pozwac uokik rzecznik jurist advokaat
    kohtu kohus$ kaeban tarbijakaitse ttja$ uz_tiesu versisos_tiesa griezisos_tiesa tiesu$
    iesudz ptac$ patereteju bad_review negative_review one_star tell_everyone warn_everyone
    spatnou_recenz negativni_recenz negativni_hodnoceni zle_hodnoten zlu_recenz negatywn_opini
    zla_opini negatywna_recenz halva_arvustus negatiivse_arvustus sliktu_atsauksm
    negativu_atsauksm""",
)
THREAT = _terms(
    """will$ ill$ going_to gonna my_lawyer my_attorney see_you take_you podam$ obratim predam
    pujdu$ budu$ dam_to budem$ posl nahlas napisu napisem pozwe napisze wystawie zglosze oddam
    skieruje bede$ moj_prawnik poordun annan$ lahen$ minu_advokaat minu_jurist iesudzesu
    versisos griezisos nodosu mans_advokats mans_jurists""",
)

# Something positive: vetoes swearing, shouting and "!!" that come without a strong complaint.
POSITIVE = _terms(
    # en
    """thank thx$ great awesome amazing love$ loving lovely perfect excellent brilliant
    fantastic wonderful impress good$ nice$ cool$ that_was_fast so_fast super_fast very_fast
    fast_delivery fast_shipping really_fast was_quick so_quick quick_delivery cheap low_price
    low_prices prices_are_low best$ superb super$ incredible happy glad wow$ yay$ beautiful
    gorgeous sweet$ epic$ legit$ cant_wait well_done congrat kudos lol$ haha not_bad killer_deal
    bargain recommend definitely is_the_shit""",
    # cs / sk
    """dekuj diky$ dik$ dakuj vdaka super skvel vyborn parada$ paradni bomba$ pecka$ uzasn
    to_bylo_rychl tak_rychl rychle_doruc rychla_doprava rychle_dodani bleskov levn lacn nejlepsi
    najlepsi hust$ husty$ mnam luxus miluj doporucuj odporucam""",
    # pl
    """dzieki dziekuj swietn rewelac wspanial genialn zajebist mega$ czad szybka_dostawa
    ale_szybko tak_szybko bardzo_szybko tani$ tania$ tanie$ tanio najlepsz kocham sztos petarda
    polecam""",
    # et
    """aitah tanan tanud suureparan vinge age$ lahe$ tore$ imeline hea$ vaga_hea kiire_tarne
    nii_kiire nii_kiiresti odav parim soovitan""",
    # lv
    """paldies lielisk forsi$ forss$ brinisk labs$ laba$ loti_labi labak cik_atri tik_atri
    loti_atri atra_piegade leti$ lets$ leta$ letak superig iesaku""",
)

# Phrases whose strong words say nothing about the shop: "a stupid question, but",
# "idiot-proof", greetings and sign-offs ("dobry den" is no praise).
CALM_NOISE = _lexicon(
    _terms(
        """good_morning good_afternoon good_evening good_day good_night best_regards
        kind_regards have_a_nice_day have_a_good_day quick_question dobry_den dobry_vecer
        dobre_rano dobre_odpoledne dzien_dobry dobry_wieczor dobrego_dnia milego_dnia head_paeva
        head_aega head_ohtut hezky_den pekny_den idiot_proof idiotproof for_dummies worst_case
        kick_ass kickass badass pracovni_neschopnost pracovnej_neschopnost is_this_a_scam
        is_it_a_scam""",
    ),
    (
        r"(?:stupid|dumb|silly|idiotic) questions?",
        r"(?:blb|hloup|pitom|hlup|debiln)\w* (?:otazk|dotaz|otaz)\w*",
        r"glupi\w* pytan\w*",
        r"(?:nome|loll|rumal)\w* kusimus\w*",
        r"(?:stulb|mulkig)\w* jautajum\w*",
        r"(?:nejhorsi|najhorsi|najgorsz|halvim|sliktak)\w* (?:scenar|stsenaari)\w*",
        r"(?:is|was) (?:this|it|that|the) (?:\w+ ){0,2}?(?:a )?(?:scam|fraud|legit)(?![a-z])",
    ),
)

_PERSON = _lexicon(PERSON_NOUNS)
_WEAK_PERSON = _lexicon(WEAK_PERSON_NOUNS)
_TALK = _lexicon(TALK)
_WANT = _lexicon(WANT + TALK)
_PERSON_DIRECT = _lexicon((), PERSON_PATTERNS)
_CALLBACK = _lexicon((), CALLBACK_PATTERNS)
_COURIER = _lexicon(COURIER)
_PEOPLE = _lexicon(PEOPLE)
_STAFF_OR_JOB = _lexicon(JOB, STAFF_TOPIC_PATTERNS + JOB_PATTERNS)
_OPERATOR_CONTEXT = _lexicon(OPERATOR_CONTEXT)
_OPERATOR_WORD = re.compile(r"op+e?ra")
_INSULT = _lexicon(INSULTS, INSULT_PATTERNS)
_SCAM = _lexicon(SCAM)
_THIEVES = _lexicon(THIEVES)
_THEFT = _lexicon(THEFT)
_PHISHING = _lexicon(PHISHING)
_SWEAR = _lexicon(SWEARS, guard="(?<!holy )")  # "holy shit" is MILD
_MILD = _lexicon(MILD)
_JUDGEMENT = _lexicon(JUDGEMENT)
_FED_UP = _lexicon(FED_UP)
_FED_UP_WITH_YOU = re.compile(  # "fed up with you", "sick of your excuses"
    _FED_UP.pattern
    + r"[a-z]*(?: [a-z]+){0,2}? (?:you|your|yours|vas|vami|vasim|wami|was|wasz|teie|teid"
    r"|teiega|jus|jums|jusu)(?![a-z])"
)
_STRONG_COMPLAINT = _lexicon(JUDGEMENT + FAILURE)
_WEAK_COMPLAINT = _lexicon(WEAK_COMPLAINT)
_TARGET = _lexicon(TARGET)
_LEGAL = _lexicon(LEGAL)
_THREAT = _lexicon(THREAT)
_POSITIVE = _lexicon(POSITIVE)
# Every word-level cue of anger in one regex: most messages have none and need one search.
_ANGER_CUES = _lexicon(
    INSULTS + SCAM + THIEVES + SWEARS + MILD + JUDGEMENT + FED_UP + LEGAL, INSULT_PATTERNS
)

# "!!!", "?!", "!?" and "???" (a "1" typed for "!" counts: "!!1"); "!!" only with a strong
# complaint ("Where can I buy it!!" is no anger).
_EXCLAMATIONS = re.compile(r"![!1]*![!1]*[!1]|\?\s*!|!\s*\?|\?\s*\?\s*\?")
_DOUBLE_EXCLAMATION = re.compile(r"!\s*!")
# Masked swearing: "f*ck", "sh*t", "f**king".
_MASKED_SWEAR = re.compile(r"\bf\*{1,3}(?:c?k|ing|in)|\bsh\*t\b|\bb\*tch", re.IGNORECASE)
_ANGRY_EMOJI = re.compile("[\U0001f621\U0001f92c\U0001f620\U0001f595]")  # pouting, cursing, fist
_WORD = re.compile(r"[a-z]+")
# Shouting: at least this many letters, this share upper case, over at least two words.
SHOUT_MIN_LETTERS = 10
SHOUT_UPPER_SHARE = 0.8


@dataclass(frozen=True, slots=True)
class _Anger:
    """Evidence of anger; not firm when it is only shouting or "!!!" with at most a weak
    complaint, which a request for a person in the same message outweighs."""

    evidence: str
    firm: bool


def _find(pattern: re.Pattern[str], padded: str) -> str | None:
    """The matched term or phrase, completed to the end of its last word (the evidence)."""
    match = pattern.search(padded)
    if match is None:
        return None
    end = padded.find(" ", match.end())
    return padded[match.start() + 1 : end if end >= 0 else len(padded)].strip()


def _without(noise: re.Pattern[str], padded: str) -> str:
    return noise.sub(" ", padded) if noise.search(padded) else padded


def _shouting(text: str) -> bool:
    upper = sum(map(str.isupper, text))
    if upper < SHOUT_MIN_LETTERS * SHOUT_UPPER_SHARE:
        return False
    letters = sum(map(str.isalpha, text))
    if letters < SHOUT_MIN_LETTERS or upper < SHOUT_UPPER_SHARE * letters:
        return False
    return sum(1 for w in re.findall(r"\w+", text) if len(w) >= 2 and w.isupper()) >= 2


def _insult(text: str, calm: str) -> str | None:
    """An insult, a vulgar word, fraud or theft said of the shop, an angry emoji: anger on its
    own."""
    insult = _find(_INSULT, calm)
    if insult:
        return insult
    scam = _find(_SCAM, calm)
    if scam and not _PHISHING.search(calm):
        return scam
    thieves = _find(_THIEVES, calm)
    if thieves and not _THEFT.search(calm):
        return thieves
    if not text.isascii() and _ANGRY_EMOJI.search(text):
        return "angry emoji"
    return None


def _anger(text: str, padded: str) -> _Anger | None:
    """The evidence that the visitor is angry, or None. Cheap cues first: most messages have
    none of them and return before the complaint and positive lexicons are searched."""
    calm = _without(CALM_NOISE, padded)
    cues = _ANGER_CUES.search(calm) is not None
    insult = _insult(text, calm) if cues or not text.isascii() else None
    if insult:
        return _Anger(f"insult: {insult}", firm=True)
    swear = (_find(_SWEAR, calm) if cues else None) or (
        "masked swear" if "*" in text and _MASKED_SWEAR.search(text) else None
    )
    judgement = _find(_JUDGEMENT, calm) if cues else None
    fed_up = _find(_FED_UP, calm) if cues else None
    legal = _find(_LEGAL, calm) if cues else None
    mild = _find(_MILD, calm) if cues else None
    exclamations = _DOUBLE_EXCLAMATION.search(text) or _EXCLAMATIONS.search(text)
    shouting = _shouting(text)
    if not (swear or judgement or fed_up or legal or mild or exclamations or shouting):
        return None
    strong = _find(_STRONG_COMPLAINT, calm)
    positive = _POSITIVE.search(calm)
    # a positive word outweighs a weak complaint ("again"), not a strong one ("broken")
    complaint = strong or (None if positive else _find(_WEAK_COMPLAINT, calm))
    if swear and (complaint or not positive):
        return _Anger(f"swearing: {swear}", firm=True)
    if judgement and not positive and _TARGET.search(calm):
        return _Anger(f"judgement: {judgement}", firm=True)
    if fed_up and (complaint or _FED_UP_WITH_YOU.search(calm)):
        return _Anger(f"fed up: {fed_up}", firm=True)
    if legal and (complaint or _THREAT.search(calm)):
        return _Anger(f"threat: {legal}", firm=True)
    if mild and complaint:
        return _Anger(f"{mild} + {complaint}", firm=True)
    if exclamations and (strong or (complaint and _EXCLAMATIONS.search(text))):
        return _Anger(f"exclamations + {complaint}", firm=strong is not None)
    if shouting and (complaint or not positive):
        return _Anger("shouting", firm=strong is not None)
    return None


def _only_helper_words(padded: str) -> bool:
    """The message is a helper noun with fillers only ("operator please", "human!")."""
    rest = [w for w in padded.split() if w not in FILLER and not is_stopword(w)]
    return bool(rest) and all(_PERSON.match(" " + w) for w in rest)


def _asks_for_person(padded: str) -> str | None:
    """The evidence that the visitor asks for a person, or None."""
    text = _without(PERSON_NOISE, padded)
    direct = _find(_PERSON_DIRECT, text)
    if direct:
        return f"asks: {direct}"
    callback = _find(_CALLBACK, text)
    if callback and not _COURIER.search(text):
        return f"callback: {callback}"
    person = _find(_PERSON, text)
    weak = _find(_WEAK_PERSON, text)
    if not (person or weak) or _PEOPLE.search(text) or _STAFF_OR_JOB.search(text):
        return None
    if person and not (_OPERATOR_WORD.match(person) and _OPERATOR_CONTEXT.search(text)):
        want = _find(_WANT, text)
        if want:
            return f"{want} + {person}"
        if _only_helper_words(text):
            return f"only: {person}"
    talk = _find(_TALK, text) if weak else None
    if talk:
        return f"{talk} + {weak}"
    return None


def detect_intent(text: str) -> IntentMatch | None:
    """Angry before asks-for-person (an angry visitor goes to a supervisor, not just anyone),
    except that shouting or "!!!" without a strong complaint yields to a request for a person."""
    padded = " " + " ".join(_WORD.findall(fold(text).replace("'", "")))
    anger = _anger(text, padded)
    if anger and anger.firm:
        return IntentMatch(Intent.ANGRY, anger.evidence)
    person = _asks_for_person(padded)
    if person:
        return IntentMatch(Intent.ASKED_FOR_PERSON, person)
    if anger:
        return IntentMatch(Intent.ANGRY, anger.evidence)
    return None
