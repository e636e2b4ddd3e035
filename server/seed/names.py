"""Finnish names, street names and real postal areas for generated seed data.

Every person and company that the seed data names is fictional; the postal codes
and the towns they belong to are real (Posti's postal areas), so addresses look
like the ones the register really holds. The grid operator given for each area is
a plausible distribution network operator name for seed data only: it is not an
authoritative list of which DSO serves which postal area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# --------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------

MALE_FIRST_NAMES: Final[tuple[str, ...]] = (
    "Juhani", "Johannes", "Mikael", "Olavi", "Onni", "Matti", "Kalevi", "Ilmari",
    "Antero", "Tapani", "Mikko", "Timo", "Jari", "Kari", "Pekka", "Jukka",
    "Markku", "Antti", "Heikki", "Hannu", "Seppo", "Janne", "Ville", "Juha",
    "Lauri", "Eero", "Aleksi", "Leo", "Eino", "Väinö", "Oliver", "Elias",
    "Veeti", "Niko", "Tuomas", "Sami", "Petri", "Esa", "Raimo", "Reijo",
    "Pentti", "Erkki", "Arto", "Tero", "Jouni", "Aarne", "Toivo", "Viljo",
)  # fmt: skip

FEMALE_FIRST_NAMES: Final[tuple[str, ...]] = (
    "Maria", "Helena", "Johanna", "Anneli", "Kaarina", "Marjatta", "Anna", "Liisa",
    "Sofia", "Emilia", "Tuula", "Ritva", "Pirjo", "Sari", "Päivi", "Eila",
    "Aino", "Eeva", "Aada", "Hanna", "Laura", "Elina", "Minna", "Tiina",
    "Satu", "Riitta", "Leena", "Anu", "Kirsi", "Merja", "Heidi", "Jenni",
    "Olivia", "Ella", "Venla", "Lilja", "Helmi", "Ilona", "Marja", "Irma",
    "Raili", "Sirkka", "Hilkka", "Terttu", "Aili", "Tyyne", "Katja", "Noora",
)  # fmt: skip

LAST_NAMES: Final[tuple[str, ...]] = (
    "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
    "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen",
    "Salminen", "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen",
    "Salo", "Laitinen", "Tuominen", "Rantanen", "Karjalainen", "Jokinen", "Mattila",
    "Savolainen", "Lahtinen", "Ahonen", "Kivimäki", "Peltola", "Hakala", "Rinne",
    "Seppälä", "Ojala", "Laaksonen", "Vuorinen", "Ylinen", "Kangas", "Kallio",
    "Leppänen", "Aaltonen", "Mäki", "Hietala", "Vainio", "Hiltunen", "Väisänen",
    "Pelto", "Vehmas", "Kukkonen", "Uotila", "Yli-Rahko", "Alanen", "Toivonen",
    "Sillanpää", "Länsiluoto", "Uusitalo", "Ketola", "Nurmi", "Harju", "Koivisto",
)  # fmt: skip

# Swedish-speaking Finns: used for customers whose language is sv.
SWEDISH_MALE_FIRST_NAMES: Final[tuple[str, ...]] = (
    "Erik", "Johan", "Karl", "Anders", "Mats", "Henrik", "Fredrik", "Nils",
    "Gustav", "Lars", "Stefan", "Mikael",
)  # fmt: skip
SWEDISH_FEMALE_FIRST_NAMES: Final[tuple[str, ...]] = (
    "Anna", "Karin", "Ingrid", "Maria", "Linnea", "Ebba", "Kristina", "Birgitta",
    "Elin", "Sofia", "Ulla", "Margareta",
)  # fmt: skip
SWEDISH_LAST_NAMES: Final[tuple[str, ...]] = (
    "Johansson", "Lindholm", "Nyström", "Lindqvist", "Holmström", "Sjöberg",
    "Grönroos", "Lindroos", "Björkqvist", "Forsström", "Wikström", "Sundström",
    "Eriksson", "Backman", "Öhman", "Åkerlund",
)  # fmt: skip

# --------------------------------------------------------------------------
# Organisations that are customers (all fictional)
# --------------------------------------------------------------------------

ORGANISATION_WORDS: Final[tuple[str, ...]] = (
    # Words that take a plain -n in the genitive ("Mäntylän Saha Oy").
    "Mäntylä", "Koivula", "Rantala", "Kivelä", "Pohjola", "Virtala", "Mylly",
    "Honkala", "Harjula", "Niittylä", "Rinnelä", "Saarenpää", "Lehtola", "Aittola",
    "Peltola", "Kuusela", "Tammisto", "Vaahtera", "Koskela", "Mäkelä",
)  # fmt: skip
ORGANISATION_TRADES: Final[tuple[str, ...]] = (
    "Konepaja", "Saha", "Puutyö", "Rakennus", "Kuljetus", "Maatila", "Kauppa",
    "Kahvila", "Autokorjaamo", "Metsäpalvelu", "Kiinteistöhuolto", "Leipomo",
    "Sähkötyö", "Tilitoimisto", "Parturi-kampaamo", "Kukkakauppa",
)  # fmt: skip
ORGANISATION_FORMS: Final[tuple[str, ...]] = ("Oy", "Oy", "Oy", "Ky", "Tmi", "Oy Ab")

# --------------------------------------------------------------------------
# Streets
# --------------------------------------------------------------------------

STREET_NAMES: Final[tuple[str, ...]] = (
    "Kirkkotie", "Koulutie", "Myllytie", "Rantatie", "Asematie", "Puistotie",
    "Koivutie", "Mäntytie", "Kuusitie", "Pihlajatie", "Haapatie", "Leppätie",
    "Sahantie", "Teollisuustie", "Kauppatie", "Urheilutie", "Kalliotie", "Peltotie",
    "Niittytie", "Metsätie", "Harjutie", "Järventie", "Lahdentie", "Nokkatie",
    "Kangastie", "Palokuja", "Tapiolantie", "Sairaalantie", "Hakamaantie", "Vanhatie",
    "Kotiranta", "Rinnetie", "Kirkkokatu", "Kauppakatu", "Koulukatu", "Puistokatu",
    "Rantakatu", "Asemakatu", "Satamakatu", "Torikatu", "Hämeenkatu", "Itsenäisyydenkatu",
    "Pohjoisesplanadi", "Yrjönkatu", "Isokatu", "Länsikatu", "Itäkatu", "Vapaudenkatu",
)  # fmt: skip

# --------------------------------------------------------------------------
# Postal areas (real code/town pairs) and the DSO that serves them
# --------------------------------------------------------------------------

KSAT_NETWORK: Final = "Koillis-Satakunnan Sähkö Oy"


@dataclass(frozen=True, slots=True)
class PostalArea:
    code: str
    town: str
    grid_operator: str
    weight: int  # relative share of customers living there
    urban: bool = False  # mostly apartment blocks


POSTAL_AREAS: Final[tuple[PostalArea, ...]] = (
    # The company's own distribution area (Virrat, Ruovesi, Kuru, Mänttä-Vilppula)
    PostalArea("34800", "Virrat", KSAT_NETWORK, 90),
    PostalArea("34600", "Ruovesi", KSAT_NETWORK, 35),
    PostalArea("34300", "Kuru", KSAT_NETWORK, 15),
    PostalArea("35800", "Mänttä", KSAT_NETWORK, 20),
    PostalArea("35700", "Vilppula", KSAT_NETWORK, 10),
    PostalArea("39820", "Kihniö", "Elenia Verkko Oyj", 8),
    PostalArea("39700", "Parkano", "Elenia Verkko Oyj", 14),
    PostalArea("42700", "Keuruu", "Elenia Verkko Oyj", 10),
    PostalArea("63700", "Ähtäri", "Elenia Verkko Oyj", 8),
    PostalArea("63300", "Alavus", "Elenia Verkko Oyj", 6),
    PostalArea("62900", "Alajärvi", "Elenia Verkko Oyj", 4),
    # Pirkanmaa
    PostalArea("33100", "Tampere", "Tampereen Sähköverkko Oy", 30, urban=True),
    PostalArea("33200", "Tampere", "Tampereen Sähköverkko Oy", 15, urban=True),
    PostalArea("33500", "Tampere", "Tampereen Sähköverkko Oy", 10, urban=True),
    PostalArea("33720", "Tampere", "Tampereen Sähköverkko Oy", 10, urban=True),
    PostalArea("33470", "Ylöjärvi", "Elenia Verkko Oyj", 10),
    PostalArea("33950", "Pirkkala", "Elenia Verkko Oyj", 6),
    PostalArea("37500", "Lempäälä", "Elenia Verkko Oyj", 6),
    PostalArea("36200", "Kangasala", "Elenia Verkko Oyj", 8),
    PostalArea("37100", "Nokia", "Elenia Verkko Oyj", 8),
    PostalArea("37600", "Valkeakoski", "Elenia Verkko Oyj", 5),
    PostalArea("35300", "Orivesi", "Elenia Verkko Oyj", 6),
    PostalArea("39500", "Ikaalinen", "Elenia Verkko Oyj", 8),
    PostalArea("39100", "Hämeenkyrö", "Elenia Verkko Oyj", 6),
    PostalArea("38200", "Sastamala", "Elenia Verkko Oyj", 6),
    # Satakunta
    PostalArea("28100", "Pori", "Pori Energia Sähköverkot Oy", 18, urban=True),
    PostalArea("28130", "Pori", "Pori Energia Sähköverkot Oy", 6),
    PostalArea("28400", "Ulvila", "Pori Energia Sähköverkot Oy", 4),
    PostalArea("29600", "Noormarkku", "Pori Energia Sähköverkot Oy", 3),
    PostalArea("38700", "Kankaanpää", "Elenia Verkko Oyj", 12),
    PostalArea("38800", "Jämijärvi", "Elenia Verkko Oyj", 3),
    PostalArea("39930", "Karvia", "Elenia Verkko Oyj", 3),
    PostalArea("38950", "Honkajoki", "Elenia Verkko Oyj", 2),
    PostalArea("29200", "Harjavalta", "Caruna Oy", 3),
    PostalArea("32800", "Kokemäki", "Caruna Oy", 3),
    PostalArea("32700", "Huittinen", "Caruna Oy", 3),
    PostalArea("26100", "Rauma", "Rauman Energia Oy", 6, urban=True),
    PostalArea("27510", "Eura", "Caruna Oy", 2),
    PostalArea("29900", "Merikarvia", "Caruna Oy", 2),
    # Big cities
    PostalArea("00100", "Helsinki", "Helen Sähköverkko Oy", 14, urban=True),
    PostalArea("00530", "Helsinki", "Helen Sähköverkko Oy", 6, urban=True),
    PostalArea("00180", "Helsinki", "Helen Sähköverkko Oy", 4, urban=True),
    PostalArea("02100", "Espoo", "Caruna Espoo Oy", 5, urban=True),
    PostalArea("01300", "Vantaa", "Vantaan Energia Sähköverkot Oy", 4, urban=True),
    PostalArea("20100", "Turku", "Turku Energia Sähköverkot Oy", 5, urban=True),
    PostalArea("40100", "Jyväskylä", "Jyväskylän Energia Oy", 5, urban=True),
    PostalArea("90100", "Oulu", "Oulun Sähköverkko Oy", 3, urban=True),
    PostalArea("60100", "Seinäjoki", "Seinäjoen Energia Oy", 4, urban=True),
    PostalArea("70100", "Kuopio", "Kuopion Sähköverkko Oy", 2, urban=True),
    PostalArea("15100", "Lahti", "LE-Sähköverkko Oy", 2, urban=True),
)

# Where summer cottages (vapaa-ajan asunnot) of the customers typically are.
HOLIDAY_AREAS: Final[tuple[str, ...]] = (
    "34800", "34600", "34300", "35800", "39820", "63700", "29900", "35300",
)  # fmt: skip

EMAIL_DOMAINS: Final[tuple[str, ...]] = ("example.fi", "example.com")

_ASCII_MAP: Final = str.maketrans({"ä": "a", "ö": "o", "å": "a", "é": "e", "ü": "u"})


def email_local_part(*names: str) -> str:
    """``"Väinö", "Mäki-Kuusela"`` -> ``"vaino.maki-kuusela"`` (ASCII, lower case)."""
    parts = [name.lower().translate(_ASCII_MAP).replace(" ", "") for name in names]
    return ".".join(part for part in parts if part)
