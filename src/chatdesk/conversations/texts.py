"""Visitor-facing system texts in every supported language (pure data)."""

from __future__ import annotations

from typing import Final

_TEXTS: Final[dict[str, dict[str, str]]] = {
    "agent_joined": {
        "en": "{name} joined the chat.",
        "cs": "{name} se připojil(a) k chatu.",
        "sk": "{name} sa pripojil(a) k chatu.",
        "pl": "{name} dołącza do czatu.",
        "et": "{name} liitus vestlusega.",
        "lv": "{name} pievienojās sarunai.",
    },
    "transferred": {
        "en": "You are now chatting with {name}.",
        "cs": "Nyní si píšete s: {name}.",
        "sk": "Teraz si píšete s: {name}.",
        "pl": "Teraz rozmawiasz z: {name}.",
        "et": "Nüüd vestleb teiega {name}.",
        "lv": "Tagad ar jums sarunājas {name}.",
    },
    "requeued": {
        "en": "Your consultant got disconnected. We are finding you another one.",
        "cs": "Váš konzultant se odpojil. Hledáme vám jiného.",
        "sk": "Váš konzultant sa odpojil. Hľadáme vám iného.",
        "pl": "Konsultant się rozłączył. Szukamy dla Ciebie innego.",
        "et": "Teie konsultandi ühendus katkes. Otsime teile uue.",
        "lv": "Jūsu konsultants atvienojās. Meklējam jums citu.",
    },
    "handed_back": {
        "en": "You are chatting with our virtual assistant again.",
        "cs": "Opět si píšete s naším virtuálním asistentem.",
        "sk": "Opäť si píšete s naším virtuálnym asistentom.",
        "pl": "Ponownie rozmawiasz z naszym wirtualnym asystentem.",
        "et": "Vestlete taas meie virtuaalse assistendiga.",
        "lv": "Jūs atkal sarunājaties ar mūsu virtuālo asistentu.",
    },
    "closed": {
        "en": "The conversation has been closed. Thank you!",
        "cs": "Konverzace byla ukončena. Děkujeme!",
        "sk": "Konverzácia bola ukončená. Ďakujeme!",
        "pl": "Rozmowa została zakończona. Dziękujemy!",
        "et": "Vestlus on lõpetatud. Täname!",
        "lv": "Saruna ir slēgta. Paldies!",
    },
    "idle_closed": {
        "en": "The conversation was closed after a period of inactivity.",
        "cs": "Konverzace byla ukončena kvůli nečinnosti.",
        "sk": "Konverzácia bola ukončená pre nečinnosť.",
        "pl": "Rozmowa została zakończona z powodu braku aktywności.",
        "et": "Vestlus lõpetati tegevusetuse tõttu.",
        "lv": "Saruna tika slēgta neaktivitātes dēļ.",
    },
    "dequeued": {
        "en": "You left the queue.",
        "cs": "Opustili jste frontu.",
        "sk": "Opustili ste frontu.",
        "pl": "Opuszczono kolejkę.",
        "et": "Lahkusite järjekorrast.",
        "lv": "Jūs pametāt rindu.",
    },
    "offline_no_agents": {
        "en": "No consultant is available right now. Leave us a message and we will reply by email.",
        "cs": "Momentálně není k dispozici žádný konzultant. Zanechte nám zprávu a odpovíme e-mailem.",
        "sk": "Momentálne nie je k dispozícii žiadny konzultant. Zanechajte nám správu a odpovieme e-mailom.",
        "pl": "Żaden konsultant nie jest teraz dostępny. Zostaw wiadomość, odpowiemy e-mailem.",
        "et": "Ühtegi konsultanti pole praegu saadaval. Jätke meile sõnum ja vastame e-posti teel.",
        "lv": "Pašlaik neviens konsultants nav pieejams. Atstājiet ziņu, un mēs atbildēsim e-pastā.",
    },
    "offline_outside_hours": {
        "en": "We are closed right now. Leave us a message and we will reply by email.",
        "cs": "Momentálně máme zavřeno. Zanechte nám zprávu a odpovíme e-mailem.",
        "sk": "Momentálne máme zatvorené. Zanechajte nám správu a odpovieme e-mailom.",
        "pl": "Jesteśmy teraz nieczynni. Zostaw wiadomość, odpowiemy e-mailem.",
        "et": "Oleme praegu suletud. Jätke meile sõnum ja vastame e-posti teel.",
        "lv": "Pašlaik esam slēgti. Atstājiet ziņu, un mēs atbildēsim e-pastā.",
    },
    "message_left": {
        "en": "Thank you, we received your message and will reply to {email}.",
        "cs": "Děkujeme, vaši zprávu jsme přijali a odpovíme na {email}.",
        "sk": "Ďakujeme, vašu správu sme prijali a odpovieme na {email}.",
        "pl": "Dziękujemy, otrzymaliśmy wiadomość i odpowiemy na {email}.",
        "et": "Aitäh, saime teie sõnumi kätte ja vastame aadressile {email}.",
        "lv": "Paldies, mēs saņēmām jūsu ziņu un atbildēsim uz {email}.",
    },
    "suggest_intro": {
        "en": "I am not sure I understood. Did you mean one of these?",
        "cs": "Nejsem si jistý, že rozumím. Myslíte jednu z těchto otázek?",
        "sk": "Nie som si istý, že rozumiem. Myslíte jednu z týchto otázok?",
        "pl": "Nie jestem pewien, czy dobrze rozumiem. Czy chodzi o jedno z tych pytań?",
        "et": "Ma ei ole kindel, et sain aru. Kas mõtlesite mõnda neist?",
        "lv": "Neesmu pārliecināts, ka sapratu. Vai domājāt kādu no šiem?",
    },
    "no_match": {
        "en": "Sorry, I don't know the answer to that. Could you rephrase it, or talk to a person?",
        "cs": "Omlouvám se, na tohle odpověď nevím. Zkuste otázku přeformulovat, nebo si napište s člověkem.",
        "sk": "Prepáčte, na toto odpoveď neviem. Skúste otázku preformulovať alebo si napíšte s človekom.",
        "pl": "Przepraszam, nie znam odpowiedzi. Spróbuj zapytać inaczej albo porozmawiaj z konsultantem.",
        "et": "Vabandust, ma ei tea sellele vastust. Sõnastage küsimus ümber või rääkige inimesega.",
        "lv": "Atvainojiet, es nezinu atbildi. Lūdzu, pārfrāzējiet jautājumu vai runājiet ar cilvēku.",
    },
    "handoff": {
        "en": "Let me connect you with a colleague.",
        "cs": "Přepojím vás na kolegu.",
        "sk": "Prepojím vás na kolegu.",
        "pl": "Łączę z konsultantem.",
        "et": "Ühendan teid kolleegiga.",
        "lv": "Savienoju jūs ar kolēģi.",
    },
}


def system_text(key: str, lang: str, **values: str) -> str:
    """The text ``key`` in ``lang`` (English when that language is missing)."""
    variants = _TEXTS[key]
    return variants.get(lang, variants["en"]).format(**values)
