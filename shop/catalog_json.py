"""Read a product file of Kaggle's full dataset (``styles/<id>.json``) into the details ``styles.csv`` lacks.

Prices, brand, the merchant's description (sanitised here: it is HTML from a third party), attributes, sizes and
their inventory, the same style in other colours, the date it was added. Nothing here touches the database; a
file that cannot be read raises ``DetailsError`` saying why, and its row is imported from ``styles.csv`` alone.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import nh3

# What a description may keep of the merchant's HTML: text structure, never scripts, handlers, styles or links.
DESCRIPTION_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li"}
MISSING_VALUES = {"", "NA", "N/A", "null"}


class DetailsError(ValueError):
    """The product file is missing, is not JSON, or does not hold what a product file holds."""


@dataclass(frozen=True)
class SkuDetails:
    sku_id: int
    kind: str  # what the option is, e.g. "Size"
    label: str  # its value, e.g. "40" or "Onesize"
    inventory: int | None  # the file's inventory count: a historical snapshot


@dataclass(frozen=True)
class StyleDetails:
    name: str | None
    brand: str | None
    list_price: Decimal | None
    price: Decimal | None
    description: str
    attributes: dict[str, str]
    age_group: str | None
    added_at: datetime | None
    cash_on_delivery: bool
    skus: tuple[SkuDetails, ...] = ()
    colour_ids: tuple[int, ...] = field(default=())


def sanitise_description(html: str) -> str:
    """The merchant's HTML reduced to paragraphs, line breaks, emphasis and lists, with no attribute at all."""
    return nh3.clean(html, tags=DESCRIPTION_TAGS, attributes={}, url_schemes=set()).strip()


def read_style(path: Path, product_id: int) -> StyleDetails:
    """Raises ``DetailsError`` with the reason when the file cannot be used."""
    try:
        document = json.loads(path.read_bytes())
    except FileNotFoundError as error:
        raise DetailsError("no such file") from error
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise DetailsError(f"not readable JSON ({error})") from error
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        raise DetailsError('no "data" object')
    if data.get("id") is not None and _integer(data["id"], "id") != product_id:
        raise DetailsError(f"it describes product {data['id']}, not {product_id}")
    list_price, price = _price(data.get("price"), "price"), _price(data.get("discountedPrice"), "discountedPrice")
    if price is None:
        price = list_price
    if list_price is not None and price is not None and price > list_price:
        raise DetailsError(f"discountedPrice {price} is above price {list_price}")
    return StyleDetails(
        name=_text(data.get("productDisplayName")),
        brand=_text(data.get("brandName")),
        list_price=list_price,
        price=price,
        description=sanitise_description(_description(data)),
        attributes=_attributes(data.get("articleAttributes")),
        age_group=_text(data.get("ageGroup")),
        added_at=_added_at(data.get("catalogAddDate")),
        cash_on_delivery=data.get("codEnabled") is True,
        skus=_skus(data.get("styleOptions"), product_id),
        colour_ids=_colour_ids(data.get("colours"), product_id),
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return None if text in MISSING_VALUES else text


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise DetailsError(f"{name} is not a whole number: {value!r}")
    try:
        return int(str(value).strip())
    except ValueError as error:
        raise DetailsError(f"{name} is not a whole number: {value!r}") from error


def _price(value: object, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise DetailsError(f"{name} is not an amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise DetailsError(f"{name} is not an amount: {value!r}") from error
    if not amount.is_finite() or amount < 0:
        raise DetailsError(f"{name} is not an amount: {value!r}")
    # Zero is how the data says "no price": such a product cannot be bought, never given away.
    return amount.quantize(Decimal("0.01")) if amount > 0 else None


def _description(data: dict) -> str:
    descriptors = data.get("productDescriptors")
    if not isinstance(descriptors, dict):
        return ""
    description = descriptors.get("description")
    value = description.get("value") if isinstance(description, dict) else None
    return value if isinstance(value, str) else ""


def _attributes(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    attributes = {str(key).strip(): _text(item) for key, item in value.items()}
    return {key: item for key, item in attributes.items() if key and item}


def _added_at(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    seconds = _integer(value, "catalogAddDate")
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise DetailsError(f"catalogAddDate is not a date: {value!r}") from error


def _skus(options: object, product_id: int) -> tuple[SkuDetails, ...]:
    if options is None:
        return ()
    if not isinstance(options, list):
        raise DetailsError("styleOptions is not a list")
    skus = []
    for option in options:
        if not isinstance(option, dict) or "skuId" not in option:
            raise DetailsError("a styleOption has no skuId")
        label = _text(option.get("value")) or "Onesize"
        count = option.get("inventoryCount")
        inventory = None if count is None else max(_integer(count, f"inventoryCount of sku {option['skuId']}"), 0)
        skus.append(
            SkuDetails(_integer(option["skuId"], "skuId"), _text(option.get("name")) or "Size", label, inventory)
        )
    if len({sku.sku_id for sku in skus}) != len(skus):
        raise DetailsError(f"product {product_id} lists a skuId twice")
    return tuple(skus)


def _colour_ids(colours: object, product_id: int) -> tuple[int, ...]:
    if not isinstance(colours, dict) or not isinstance(colours.get("colors"), dict):
        return ()
    ids = set()
    for key, colour in colours["colors"].items():
        styleid = colour.get("styleid", key) if isinstance(colour, dict) else key
        try:
            ids.add(int(styleid))
        except (TypeError, ValueError):
            continue  # a link without a usable id leads nowhere
    ids.discard(product_id)
    return tuple(sorted(ids))
