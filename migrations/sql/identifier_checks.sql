-- Identifier checks used by CHECK constraints: fi_valid_hetu, fi_valid_business_id,
-- fi_valid_gsrn, fi_valid_reference, fi_valid_rf_reference, fi_valid_iban.
--
-- They mirror server/validators.py and accept exactly the canonical values the
-- Python validators return (no spaces, upper case, no leading zeros in a
-- viitenumero): fi_valid_x(v) is true iff validate_x(v) = v. Keep the two in step;
-- tests/test_identifier_sql.py compares them.
--
-- Every function is IMMUTABLE, STRICT (NULL in, NULL out) and never raises: bad
-- input gives false. No function looks at the current date. Objects are created
-- in the first schema of search_path, so this file names no schema.

CREATE OR REPLACE FUNCTION fi_valid_hetu(value text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    -- 2023 decree: + 1800s; - Y X W V U 1900s; A B C D E F 2000s.
    century_sign text := substr(value, 7, 1);
    yyyy integer;
    mm integer;
    dd integer;
    individual integer;
    last_day integer;
BEGIN
    IF value !~ '^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]$' THEN
        RETURN false;
    END IF;
    dd := substr(value, 1, 2)::integer;
    mm := substr(value, 3, 2)::integer;
    yyyy := substr(value, 5, 2)::integer
        + CASE WHEN century_sign = '+' THEN 1800 WHEN century_sign IN ('A', 'B', 'C', 'D', 'E', 'F') THEN 2000 ELSE 1900 END;
    IF mm NOT BETWEEN 1 AND 12 THEN
        RETURN false;
    END IF;
    last_day := CASE
        WHEN mm = 2 THEN
            CASE WHEN mod(yyyy, 4) = 0 AND (mod(yyyy, 100) <> 0 OR mod(yyyy, 400) = 0)
                 THEN 29 ELSE 28 END
        WHEN mm IN (4, 6, 9, 11) THEN 30
        ELSE 31
    END;
    IF dd NOT BETWEEN 1 AND last_day THEN
        RETURN false;
    END IF;
    -- Issued individual numbers are 002-899; 900-999 are temporary codes.
    individual := substr(value, 8, 3)::integer;
    IF individual < 2 OR individual > 899 THEN
        RETURN false;
    END IF;
    RETURN substr(
        '0123456789ABCDEFHJKLMNPRSTUVWXY',
        mod((substr(value, 1, 6) || substr(value, 8, 3))::bigint, 31)::integer + 1,
        1
    ) = substr(value, 11, 1);
END
$$;

CREATE OR REPLACE FUNCTION fi_valid_business_id(value text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    weights CONSTANT integer[] := ARRAY[7, 9, 10, 5, 8, 4, 2];
    total integer := 0;
    remainder integer;
BEGIN
    IF value !~ '^[0-9]{7}-[0-9]$' THEN
        RETURN false;
    END IF;
    FOR i IN 1..7 LOOP
        total := total + substr(value, i, 1)::integer * weights[i];
    END LOOP;
    remainder := mod(total, 11);
    IF remainder = 1 THEN
        RETURN false;  -- never issued
    END IF;
    RETURN substr(value, 9, 1)::integer = CASE WHEN remainder = 0 THEN 0 ELSE 11 - remainder END;
END
$$;

CREATE OR REPLACE FUNCTION fi_valid_gsrn(value text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    total integer := 0;
BEGIN
    IF value !~ '^[0-9]{18}$' THEN
        RETURN false;
    END IF;
    -- GS1 mod-10: weights 3, 1, 3, ... from the right over the 17 body digits,
    -- so 3 on the odd positions counted from the left.
    FOR i IN 1..17 LOOP
        total := total + substr(value, i, 1)::integer * CASE WHEN mod(i, 2) = 1 THEN 3 ELSE 1 END;
    END LOOP;
    RETURN substr(value, 18, 1)::integer = mod(10 - mod(total, 10), 10);
END
$$;

CREATE OR REPLACE FUNCTION fi_valid_reference(value text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    weights CONSTANT integer[] := ARRAY[7, 3, 1];
    n integer := length(value);
    total integer := 0;
BEGIN
    -- 4-20 digits including the check digit, stored without leading zeros.
    IF value !~ '^[1-9][0-9]{3,19}$' THEN
        RETURN false;
    END IF;
    -- Weights 7, 3, 1, 7, ... from the right over the base (all but the last digit).
    FOR i IN 1..n - 1 LOOP
        total := total + substr(value, n - i, 1)::integer * weights[mod(i - 1, 3) + 1];
    END LOOP;
    RETURN substr(value, n, 1)::integer = mod(10 - mod(total, 10), 10);
END
$$;

CREATE OR REPLACE FUNCTION fi_valid_rf_reference(value text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    rearranged text;
    digits text := '';
    ch text;
BEGIN
    -- ISO 11649: RF, check digits 02-98, 1-21 of [0-9A-Z].
    IF value !~ '^RF[0-9]{2}[0-9A-Z]{1,21}$' OR substr(value, 3, 2)::integer NOT BETWEEN 2 AND 98 THEN
        RETURN false;
    END IF;
    -- ISO 7064 MOD 97-10 over body || 'RF' || check digits, letters as A=10 ... Z=35.
    rearranged := substr(value, 5) || substr(value, 1, 4);
    FOR i IN 1..length(rearranged) LOOP
        ch := substr(rearranged, i, 1);
        digits := digits || CASE WHEN ascii(ch) <= 57 THEN ch ELSE (ascii(ch) - 55)::text END;
    END LOOP;
    RETURN mod(digits::numeric, 97) = 1;
END
$$;

CREATE OR REPLACE FUNCTION fi_valid_iban(value text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    -- IBAN length per country: SWIFT IBAN registry release 101, the same table
    -- as IBAN_LENGTHS in server/validators.py.
    expected integer;
    rearranged text;
    digits text := '';
    ch text;
BEGIN
    IF value !~ '^[A-Z]{2}[0-9]{2}[0-9A-Z]{11,30}$' THEN
        RETURN false;
    END IF;
    expected := CASE substr(value, 1, 2)
        WHEN 'AD' THEN 24 WHEN 'AE' THEN 23 WHEN 'AL' THEN 28 WHEN 'AT' THEN 20
        WHEN 'AZ' THEN 28 WHEN 'BA' THEN 20 WHEN 'BE' THEN 16 WHEN 'BG' THEN 22
        WHEN 'BH' THEN 22 WHEN 'BI' THEN 27 WHEN 'BR' THEN 29 WHEN 'BY' THEN 28
        WHEN 'CH' THEN 21 WHEN 'CR' THEN 22 WHEN 'CY' THEN 28 WHEN 'CZ' THEN 24
        WHEN 'DE' THEN 22 WHEN 'DJ' THEN 27 WHEN 'DK' THEN 18 WHEN 'DO' THEN 28
        WHEN 'EE' THEN 20 WHEN 'EG' THEN 29 WHEN 'ES' THEN 24 WHEN 'FI' THEN 18
        WHEN 'FK' THEN 18 WHEN 'FO' THEN 18 WHEN 'FR' THEN 27 WHEN 'GB' THEN 22
        WHEN 'GE' THEN 22 WHEN 'GI' THEN 23 WHEN 'GL' THEN 18 WHEN 'GR' THEN 27
        WHEN 'GT' THEN 28 WHEN 'HN' THEN 28 WHEN 'HR' THEN 21 WHEN 'HU' THEN 28
        WHEN 'IE' THEN 22 WHEN 'IL' THEN 23 WHEN 'IQ' THEN 23 WHEN 'IS' THEN 26
        WHEN 'IT' THEN 27 WHEN 'JO' THEN 30 WHEN 'KW' THEN 30 WHEN 'KZ' THEN 20
        WHEN 'LB' THEN 28 WHEN 'LC' THEN 32 WHEN 'LI' THEN 21 WHEN 'LT' THEN 20
        WHEN 'LU' THEN 20 WHEN 'LV' THEN 21 WHEN 'LY' THEN 25 WHEN 'MC' THEN 27
        WHEN 'MD' THEN 24 WHEN 'ME' THEN 22 WHEN 'MK' THEN 19 WHEN 'MN' THEN 20
        WHEN 'MR' THEN 27 WHEN 'MT' THEN 31 WHEN 'MU' THEN 30 WHEN 'NI' THEN 28
        WHEN 'NL' THEN 18 WHEN 'NO' THEN 15 WHEN 'OM' THEN 23 WHEN 'PK' THEN 24
        WHEN 'PL' THEN 28 WHEN 'PS' THEN 29 WHEN 'PT' THEN 25 WHEN 'QA' THEN 29
        WHEN 'RO' THEN 24 WHEN 'RS' THEN 22 WHEN 'RU' THEN 33 WHEN 'SA' THEN 24
        WHEN 'SC' THEN 31 WHEN 'SD' THEN 18 WHEN 'SE' THEN 24 WHEN 'SI' THEN 19
        WHEN 'SK' THEN 24 WHEN 'SM' THEN 27 WHEN 'SO' THEN 23 WHEN 'ST' THEN 25
        WHEN 'SV' THEN 28 WHEN 'TL' THEN 23 WHEN 'TN' THEN 24 WHEN 'TR' THEN 26
        WHEN 'UA' THEN 29 WHEN 'VA' THEN 22 WHEN 'VG' THEN 24 WHEN 'XK' THEN 20
        WHEN 'YE' THEN 30
    END;
    IF expected IS NULL OR length(value) <> expected THEN
        RETURN false;
    END IF;
    -- The Finnish BBAN is 14 digits.
    IF substr(value, 1, 2) = 'FI' AND value !~ '^FI[0-9]{16}$' THEN
        RETURN false;
    END IF;
    IF substr(value, 3, 2)::integer NOT BETWEEN 2 AND 98 THEN
        RETURN false;
    END IF;
    -- ISO 7064 MOD 97-10 over BBAN || country || check digits, letters as A=10 ... Z=35.
    rearranged := substr(value, 5) || substr(value, 1, 4);
    FOR i IN 1..length(rearranged) LOOP
        ch := substr(rearranged, i, 1);
        digits := digits || CASE WHEN ascii(ch) <= 57 THEN ch ELSE (ascii(ch) - 55)::text END;
    END LOOP;
    RETURN mod(digits::numeric, 97) = 1;
END
$$;
