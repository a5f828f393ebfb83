"""Small, generic word lists of the six languages (folded: lower case, no diacritics).

These are general-purpose linguistic resources written from knowledge of the languages, not
from any FAQ or evaluation set: function words (pronouns, prepositions, auxiliaries, question
words, politeness), and greetings. The matcher gives them little weight because they say
nothing about what the visitor wants; language identification uses them as strong evidence,
since function words are the most frequent and most language-specific words of a short text.
"""

from __future__ import annotations

FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """i me my mine you your yours we our us it its he she him her they them their the a an
        and or but if of to in on at for with about from by as is are was were be been being
        am do does did doing have has had having can could would should will shall may might
        must there here this that these those what how why when where which who whom whose
        please so just also any some very really then than into onto out up down over again
        im ive id youre dont doesnt didnt cant wont isnt arent want wanted like know tell
        wondering question ask asking need get got let lets hey""".split()
    ),
    "cs": frozenset(
        """ja me mi mne muj moje moji mou mym mych ty te tobe tebe vy vas vam vami my nas nam on
        ona ono oni ony jeho jej jeji jim je to ten ta tu tento tato toto tak a i ale nebo ani
        ze kdyz pokud jestli zda se si v ve na do z ze od po pro pri o u k ke s za jsem jsi
        jsme jste jsou byl byla bylo byli bude budu budete by bych bychom mam mate ma mit jak
        co kde kdy proc kdo ktery ktera ktere kteri prosim dekuji dekuju diky chci chtel
        chtela chtel potreboval potrebuji potrebuju vedet zajima rad rada mohl mohla muzete
        muzu muzeme lze jde uz jeste taky take vsak tedy nejak jaky jaka jake kolik""".split()
    ),
    "sk": frozenset(
        """ja mna mne mi moj moja moje moju mojom ty teba tebe vy vas vam vami my nas nam on ona
        ono oni ony jeho jej jeho im je to ten ta tu tento tato toto tak a aj ale alebo ani ze
        ked ak ci sa si v vo na do z zo od po pre pri o u k ku s so za som si sme ste su bol
        bola bolo boli bude budem budete by mam mate ma mat ako co kde kedy preco kto ktory
        ktora ktore prosim dakujem vdaka chcem chcel chcela potrebujem potreboval vediet
        zaujima mohol mohla mozete mozem mozeme da uz este tiez teda nejako aky aka ake
        kolko""".split()
    ),
    "pl": frozenset(
        """ja mnie mi moj moja moje mojego mojej moim ty ciebie ci twoj wy was wam my nas nam on
        ona ono oni one jego jej im to ten ta te tego tej tym tak i a oraz ale lub albo czy ze
        gdy jesli jezeli sie w we na do z ze od po dla przy o u k przez za jestem jest
        jestesmy jestescie sa byl byla bylo bedzie bede by bym mam masz ma macie miec jak co
        gdzie kiedy dlaczego czemu kto ktory ktora ktore prosze dziekuje dzieki chce
        chcialbym chcialabym potrzebuje wiedziec moge mozna mozecie moglbym moglabym juz
        jeszcze tez takze wiec jaki jaka jakie ile""".split()
    ),
    "et": frozenset(
        """ma mina mul mulle minu mind sa sina sul sulle sinu te teie teil teile me meie meil
        meile tema ta nad nende see seda selle need ja ning voi aga et kui kas on oli olen
        oled oleme olete olla mis kuidas miks kus millal kes milline mida palun aitah tanan
        tahan tahaksin soovin soovisin vajan teada saan saab saaksin saate juba veel ka siis
        kuhu mille kelle""".split()
    ),
    "lv": frozenset(
        """es man mans mana manu mani mans tu tev tavs tava jus jums jusu mes mums musu vins
        vina vini vinas tas ta tie tam sis si un vai bet ka ja ar no uz par pie pec lidz bez
        ir biju bija bus esmu esam esat kapec kur kad kas kurs kura kuru ludzu paldies gribu
        gribetu velos vajag vajadzetu zinat varu var varat varetu jau vel ari tad cik
        kads kada""".split()
    ),
}

GREETINGS: frozenset[str] = frozenset(
    """hello hi hey hallo hiya morning afternoon evening good thanks thank regards cheers
    ahoj cau nazdar zdravim dobry dobre den vecer rano pozdravem dekuji dakujem pozdravom
    dobry zdravime dzien dobrego dnia witam czesc hej pozdrawiam dziekuje tere terekest
    paevast hommikust ohtust aitah tanan labdien sveiki labrit labvakar cau paldies""".split()
)

STOPWORDS: frozenset[str] = frozenset().union(*FUNCTION_WORDS.values())

# A few everyday customer-service sentences per language, written for this module: they give
# the language identifier's trigram model a base that does not depend on the size of the FAQ
# (a FAQ with more Czech than Slovak text would otherwise pull every question towards Czech).
SAMPLE_TEXT: dict[str, str] = {
    "en": """Hello, I would like to ask about my order from last week. It has not arrived yet and
    I do not know what to do. Can you help me, please? How long does it take, and how much does
    it cost to change the address? Thank you very much, have a nice day. Where can I find the
    invoice and when will you send the money back? The payment did not work yesterday.""",
    "cs": """Dobrý den, chtěl bych se zeptat na svou objednávku z minulého týdne. Ještě nedorazila
    a nevím, co mám dělat. Můžete mi prosím pomoct? Jak dlouho to trvá a kolik stojí změna
    adresy? Děkuji moc, hezký den. Kde najdu fakturu a kdy mi vrátíte peníze? Platba včera
    nefungovala. Proč to nejde a jestli je to možné, tak mi napište.""",
    "sk": """Dobrý deň, chcel by som sa opýtať na svoju objednávku z minulého týždňa. Ešte
    neprišla a neviem, čo mám robiť. Môžete mi prosím pomôcť? Ako dlho to trvá a koľko stojí
    zmena adresy? Ďakujem veľmi pekne, pekný deň. Kde nájdem faktúru a kedy mi vrátite peniaze?
    Platba včera nefungovala. Prečo to nejde a či je to možné, tak mi napíšte.""",
    "pl": """Dzień dobry, chciałbym zapytać o moje zamówienie z zeszłego tygodnia. Jeszcze nie
    dotarło i nie wiem, co mam zrobić. Czy możecie mi pomóc? Jak długo to trwa i ile kosztuje
    zmiana adresu? Dziękuję bardzo, miłego dnia. Gdzie znajdę fakturę i kiedy oddacie mi
    pieniądze? Płatność wczoraj nie działała. Dlaczego to nie działa i czy to jest możliwe?""",
    "et": """Tere, tahaksin küsida oma eelmise nädala tellimuse kohta. See pole veel kohale
    jõudnud ja ma ei tea, mida teha. Kas saate mind palun aidata? Kui kaua see aega võtab ja
    kui palju maksab aadressi muutmine? Suur aitäh, ilusat päeva. Kust ma leian arve ja millal
    te raha tagasi saadate? Makse eile ei töötanud. Miks see ei tööta ja kas see on võimalik?""",
    "lv": """Labdien, es gribētu pajautāt par savu pagājušās nedēļas pasūtījumu. Tas vēl nav
    pienācis, un es nezinu, ko darīt. Vai jūs varat man, lūdzu, palīdzēt? Cik ilgi tas notiek
    un cik maksā adreses maiņa? Liels paldies, jauku dienu. Kur es varu atrast rēķinu un kad
    jūs atmaksāsiet naudu? Maksājums vakar nestrādāja. Kāpēc tas nedarbojas un vai tas ir
    iespējams?""",
}
