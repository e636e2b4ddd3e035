"""Finnish and English labels of the access report."""

from __future__ import annotations

from collections.abc import Mapping

CONTROLLER = {
    "fi": "Koillis-Satakunnan Sähkö Oy (Y-tunnus 0206323-2), PL 25, 34801 Virrat",
    "en": "Koillis-Satakunnan Sähkö Oy (business ID 0206323-2), PO Box 25, 34801 Virrat, Finland",
}

TEXT = {
    "fi": {
        "title": "Rekisteröidyn tarkastusoikeus: tiedot, joita meillä on sinusta",
        "intro": "Tämä raportti sisältää kaikki asiakasrekisteriin sinusta tallennetut tiedot "
        "(tietosuojaselosteen kohta 5), kieltosi ja suostumuksesi, tietojen luovutukset sekä "
        "jokaisen tietojesi käsittelykerran ajankohdan ja käyttötarkoituksen.",
        "controller": "Rekisterinpitäjä",
        "subject": "Rekisteröity",
        "customer_number": "Asiakasnumero",
        "generated": "Laadittu",
        "page": "Sivu",
        "none": "Ei tietoja.",
        "unavailable": "Käyttölokia ei voitu lukea; lokitiedot toimitetaan erikseen.",
    },
    "en": {
        "title": "Right of access: the data we hold about you",
        "intro": "This report contains all data stored about you in the customer register "
        "(privacy notice section 5), your objections and consents, the disclosures of your "
        "data, and the date and purpose of every time your data was processed.",
        "controller": "Controller",
        "subject": "Data subject",
        "customer_number": "Customer number",
        "generated": "Produced",
        "page": "Page",
        "none": "No data.",
        "unavailable": "The access log could not be read; its entries will be sent separately.",
    },
}

SECTIONS = {
    "customer": ("Perustiedot", "Basic data"),
    "objections": ("Kiellot, rajoitus ja suostumukset", "Objections, restriction and consents"),
    "sites": ("Käyttöpaikat", "Usage sites"),
    "consumption": ("Kulutustiedot kuukausittain", "Consumption per month"),
    "contracts": ("Sopimukset", "Contracts"),
    "offers": ("Tarjoukset", "Offers"),
    "invoices": ("Laskut", "Invoices"),
    "payments": ("Maksut", "Payments"),
    "deposits": ("Vakuudet", "Security deposits"),
    "collection": ("Perintä", "Debt collection"),
    "assignments": (
        "Alihankkijat, joille tietojasi on annettu käsiteltäväksi",
        "Subcontractors given your data to process",
    ),
    "disclosures": ("Tietojen luovutukset", "Disclosures of your data"),
    "requests": ("Pyyntösi", "Your requests"),
    "history": ("Tietojen muutoshistoria", "History of changes to your data"),
    "sources": (
        "Mistä tietosi ovat peräisin: tuodut tiedostot",
        "Where your data came from: imported files",
    ),
    "access": ("Tietojesi käsittelykerrat", "Every access to your data"),
}

LABELS = {
    "customer_number": ("Asiakasnumero", "Customer number"),
    "kind": ("Laji", "Kind"),
    "first_name": ("Etunimet", "First names"),
    "last_name": ("Sukunimi", "Last name"),
    "organisation_name": ("Yrityksen nimi", "Organisation name"),
    "personal_identity_code": ("Henkilötunnus", "Personal identity code"),
    "business_id": ("Y-tunnus", "Business ID"),
    "street_address": ("Katuosoite", "Street address"),
    "postal_code": ("Postinumero", "Postal code"),
    "post_office": ("Postitoimipaikka", "Post office"),
    "country": ("Maa", "Country"),
    "email": ("Sähköposti", "E-mail"),
    "phone": ("Puhelin", "Phone"),
    "language": ("Asiointikieli", "Language"),
    "created_at": ("Tallennettu", "Stored"),
    "updated_at": ("Muutettu", "Changed"),
    "former_customer_since": ("Asiakkuus päättynyt", "Customer until"),
    "objection_direct_marketing": ("Suoramarkkinointikielto", "Objection to direct marketing"),
    "objection_distance_selling": ("Etämyyntikielto", "Objection to distance selling"),
    "objection_research": (
        "Markkina- ja mielipidetutkimuskielto",
        "Objection to market and opinion research",
    ),
    "processing_restriction": ("Käsittelyn rajoitus", "Restriction of processing"),
    "marketing_consent": ("Markkinointisuostumus", "Marketing consent"),
    "in_force": ("Voimassa", "In force"),
    "since": ("Alkaen", "Since"),
    "source": ("Lähde", "Source"),
    "metering_point_id": ("Käyttöpaikkatunnus", "Metering point ID"),
    "housing_type": ("Asumismuoto", "Housing type"),
    "ownership": ("Omistus", "Ownership"),
    "heating_type": ("Lämmitystapa", "Heating type"),
    "heating_depends_on_electricity": (
        "Lämmitys riippuu sähköstä",
        "Heating depends on electricity",
    ),
    "annual_consumption_estimate_kwh": ("Vuosikulutusarvio, kWh", "Annual estimate, kWh"),
    "main_fuse": ("Pääsulake", "Main fuse"),
    "connection_id": ("Liittymätunnus", "Connection ID"),
    "grid_operator": ("Verkonhaltija", "Grid operator"),
    "connection_power_kw": ("Liittymisteho, kW", "Connection power, kW"),
    "connected_on": ("Liitetty", "Connected"),
    "contract_number": ("Sopimusnumero", "Contract number"),
    "product_name": ("Tuote", "Product"),
    "energy_price_c_per_kwh": ("Energian hinta, snt/kWh", "Energy price, c/kWh"),
    "spot_margin_c_per_kwh": ("Marginaali, snt/kWh", "Spot margin, c/kWh"),
    "basic_fee_eur_per_month": ("Perusmaksu, €/kk", "Basic fee, EUR/month"),
    "start_date": ("Alkaa", "Starts"),
    "end_date": ("Päättyy", "Ends"),
    "status": ("Tila", "Status"),
    "sales_channel": ("Myyntikanava", "Sales channel"),
    "valid_until": ("Voimassa asti", "Valid until"),
    "invoice_number": ("Laskun numero", "Invoice number"),
    "reference_number": ("Viitenumero", "Reference number"),
    "billing_method": ("Laskutustapa", "Billing method"),
    "issue_date": ("Laskun päiväys", "Issue date"),
    "due_date": ("Eräpäivä", "Due date"),
    "period_start": ("Jakso alkaa", "Period starts"),
    "period_end": ("Jakso päättyy", "Period ends"),
    "total_excl_vat": ("Veroton summa, €", "Total excl. VAT, EUR"),
    "vat_amount": ("ALV, €", "VAT, EUR"),
    "total_incl_vat": ("Yhteensä, €", "Total, EUR"),
    "line": ("Rivi", "Line"),
    "paid_on": ("Maksupäivä", "Paid on"),
    "amount": ("Summa, €", "Amount, EUR"),
    "received_on": ("Vastaanotettu", "Received"),
    "returned_on": ("Palautettu", "Returned"),
    "reason": ("Syy", "Reason"),
    "stage": ("Vaihe", "Stage"),
    "opened_on": ("Aloitettu", "Opened"),
    "closed_on": ("Päättynyt", "Closed"),
    "amount_due": ("Perittävä määrä, €", "Amount due, EUR"),
    "agency_name": ("Perintätoimisto", "Collection agency"),
    "invoice_numbers": ("Laskut", "Invoices"),
    "organisation_name_assignment": ("Organisaatio", "Organisation"),
    "target": ("Kohde", "Concerns"),
    "purpose": ("Käyttötarkoitus", "Purpose"),
    "valid_from": ("Alkaen", "From"),
    "valid_to": ("Asti", "Until"),
    "revoked_at": ("Peruttu", "Revoked"),
    "recipient": ("Vastaanottaja", "Recipient"),
    "recipient_kind": ("Vastaanottajan laji", "Kind of recipient"),
    "legal_basis": ("Oikeusperuste", "Legal basis"),
    "case_reference": ("Asianumero", "Case reference"),
    "disclosed_on": ("Luovutettu", "Disclosed on"),
    "fields": ("Luovutetut tiedot", "Data disclosed"),
    "request_number": ("Pyynnön numero", "Request number"),
    "channel": ("Tapa", "Channel"),
    "due_on": ("Vastattava viimeistään", "Answer due"),
    "extended_due_on": ("Jatkettu määräaika", "Extended deadline"),
    "completed_on": ("Vastattu", "Answered"),
    "campaign": ("Kampanja", "Campaign"),
    "marketing_consent_at": ("Suostumus annettu", "Consent given"),
    "consent_text": ("Suostumuksen teksti", "Consent text"),
    "consent_expires_on": ("Suostumus voimassa asti", "Consent valid until"),
    "at": ("Ajankohta", "Time"),
    "operations": ("Toimenpide", "Operation"),
    "data_categories": ("Tietoryhmät", "Kinds of data"),
    "create": ("tallennus", "stored"),
    "update": ("korjaus", "corrected"),
    "anonymise": ("anonymisointi", "anonymised"),
    "customer_relationship": ("asiakkuus", "customer relationship"),
    "import_kind": ("Tietolähde", "Kind of source"),
    "prospects": ("kilpailu tai arvonta", "competition or prize draw"),
    "addresses": ("osoitteenmuutospalvelu", "address change service"),
    "file_name": ("Tiedosto", "File"),
    "file_sha256": ("Tiedoston tiiviste (SHA-256)", "File digest (SHA-256)"),
    "imported_at": ("Tuotu", "Imported"),
    "data": ("Tiedot", "Data"),
    "consumption": ("kulutustiedot (Datahub)", "metering data (Datahub)"),
    "resolution": ("Mittausväli", "Time step"),
    "first_step": ("Ensimmäinen mittausjakso alkaa", "First step starts"),
    "last_step": ("Viimeinen mittausjakso alkaa", "Last step starts"),
    "values_added": ("Uusia arvoja", "Values added"),
    "values_revised": ("Korjattuja arvoja", "Values revised"),
}

PURPOSES = {
    "customer_relationship": (
        "Asiakassuhteen hoitaminen ja kehittäminen",
        "Managing and developing the customer relationship",
    ),
    "delivery": (
        "Tuotteiden ja palvelujen tarjoaminen ja toimittaminen",
        "Offering and delivering products and services",
    ),
    "billing": (
        "Laskutus, maksujen valvonta ja perintä",
        "Billing, monitoring of payments and debt collection",
    ),
    "marketing": ("Markkinointi ja etämyynti", "Marketing and distance selling"),
    "business_development": ("Liiketoiminnan kehittäminen", "Developing the business"),
    "oversight": ("Tietosuojan ja tietoturvan valvonta", "Data-protection and security oversight"),
}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "en" else pair[0]


def label(name: str, language: str) -> str:
    pair = LABELS.get(name)
    return _pick(pair, language) if pair else name.replace("_", " ")


def field_label(graphql_name: str, language: str) -> str:
    """The label of a field named by its GraphQL name (as the history and the import
    provenance keep them): personalIdentityCode is labelled as personal_identity_code."""
    column = "".join(f"_{c.lower()}" if c.isupper() else c for c in graphql_name)
    return label(column, language)


def section_title(key: str, language: str) -> str:
    return _pick(SECTIONS[key], language)


def text(key: str, language: str) -> str:
    return TEXT["en" if language == "en" else "fi"][key]


def purpose_label(purpose: str | None, language: str, known: Mapping[str, str] | None) -> str:
    if purpose is None:
        return "-"
    pair = PURPOSES.get(purpose)
    if pair:
        return _pick(pair, language)
    return (known or {}).get(purpose, purpose)


# Stored values shown to a person (enumerations of the register), Finnish and English.
VALUES = {
    "person": ("henkilö", "person"),
    "organisation": ("yritys tai yhteisö", "organisation"),
    "apartment_block": ("kerrostalo", "apartment block"),
    "terraced_house": ("rivitalo", "terraced house"),
    "semi_detached_house": ("paritalo", "semi-detached house"),
    "detached_house": ("omakotitalo", "detached house"),
    "holiday_home": ("vapaa-ajan asunto", "holiday home"),
    "business_premises": ("liiketila", "business premises"),
    "owned": ("omistus", "owned"),
    "rented": ("vuokra", "rented"),
    "direct_electric": ("suora sähkölämmitys", "direct electric heating"),
    "storage_electric": ("varaava sähkölämmitys", "storage electric heating"),
    "ground_source_heat_pump": ("maalämpö", "ground source heat pump"),
    "air_to_water_heat_pump": ("ilma-vesilämpöpumppu", "air-to-water heat pump"),
    "air_to_air_heat_pump": ("ilmalämpöpumppu", "air-to-air heat pump"),
    "district_heat": ("kaukolämpö", "district heat"),
    "oil": ("öljy", "oil"),
    "wood_or_pellet": ("puu tai pelletti", "wood or pellets"),
    "open": ("avoin", "open"),
    "paid": ("maksettu", "paid"),
    "overdue": ("erääntynyt", "overdue"),
    "in_collection": ("perinnässä", "in collection"),
    "credited": ("hyvitetty", "credited"),
    "held": ("hallussa", "held"),
    "returned": ("palautettu", "returned"),
    "applied": ("käytetty saatavaan", "applied to a debt"),
    "pending": ("alkamassa", "pending"),
    "active": ("voimassa", "active"),
    "terminated": ("irtisanottu", "terminated"),
    "ended": ("päättynyt", "ended"),
    "accepted": ("hyväksytty", "accepted"),
    "expired": ("vanhentunut", "expired"),
    "withdrawn": ("peruttu", "withdrawn"),
    "e_invoice": ("e-lasku", "e-invoice"),
    "direct_payment": ("suoramaksu", "direct payment"),
    "paper": ("paperilasku", "paper invoice"),
    "web": ("verkko", "web"),
    "field": ("kenttämyynti", "field sales"),
    "customer_service": ("asiakaspalvelu", "customer service"),
    "reminder": ("maksumuistutus", "payment reminder"),
    "payment_demand": ("maksuvaatimus", "payment demand"),
    "disconnection_warning": ("katkaisuvaroitus", "disconnection warning"),
    "collection_agency": ("perintätoimisto", "collection agency"),
    "legal": ("oikeudellinen perintä", "legal collection"),
    "closed": ("päättynyt", "closed"),
    "access": ("tarkastuspyyntö", "access"),
    "rectification": ("oikaisupyyntö", "rectification"),
    "objection": ("kielto", "objection"),
    "restriction": ("käsittelyn rajoitus", "restriction"),
    "written_signed": ("kirjallinen, allekirjoitettu", "written and signed"),
    "electronic_signature": ("sähköisesti allekirjoitettu", "electronically signed"),
    "in_person": ("henkilökohtaisesti", "in person"),
    "other": ("muu", "other"),
    "received": ("vastaanotettu", "received"),
    "in_progress": ("käsittelyssä", "in progress"),
    "completed": ("vastattu", "answered"),
    "rejected": ("hylätty", "rejected"),
    "authority": ("viranomainen", "authority"),
    "energy_company": ("energiayhtiö", "energy company"),
    "read": ("luku", "read"),
    "write": ("muutos", "change"),
    "prize_draw": ("arvonta", "prize draw"),
    "competition": ("kilpailu", "competition"),
    "quote_request": ("tarjouspyyntö", "request for a quote"),
    "event": ("tapahtuma", "event"),
    "fi": ("suomi", "Finnish"),
    "sv": ("ruotsi", "Swedish"),
    "en": ("englanti", "English"),
}


def value_text(value: str, language: str) -> str:
    pair = VALUES.get(value)
    return _pick(pair, language) if pair else value
