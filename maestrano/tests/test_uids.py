import re
import string

from maestrano import uids


def test_a_uid_is_its_prefix_and_ten_lowercase_letters_or_digits():
    assert re.fullmatch(r"cld-[a-z0-9]{10}", uids.app_instance_uid())
    assert re.fullmatch(r"bill-[a-z0-9]{4}", uids.new_uid("bill", length=4))


def test_every_character_turns_up_in_every_place():
    # Missing one of the 36 in one place over 3,000 draws has odds of about 1e-35.
    drawn = [uids.new_uid("x")[2:] for _ in range(3000)]

    for place in range(10):
        assert {uid[place] for uid in drawn} == set(
            string.ascii_lowercase + string.digits
        )
    assert len(set(drawn)) == len(drawn)
