"""The cases the linkage must get right, each built from crafted `records` rows."""

from registry.linkage import UNCERTAIN_BAND

from .records_factory import id_number, record

ADDR = "福田区/华强北街道/福强社区/红荔路220号27栋4单元2507"
OTHER_ADDR = "罗湖区/东门街道/阳光社区/5栋2单元2404"


def together(clusters, *uids):
    return len({clusters[u] for u in uids}) == 1


def test_twins_stay_apart_even_when_a_third_record_has_no_number(link):
    a_id, b_id = id_number("440304", "2012-03-05", "131"), id_number("440304", "2012-03-05", "151")
    rows = [
        record("public_security", "GA0000900001", name="张明轩", id_number=a_id, birth="2012-03-05", sex="1",
               household_id="H900", hukou_address=ADDR),
        record("public_security", "GA0000900002", name="张明哲", id_number=b_id, birth="2012-03-05", sex="1",
               household_id="H900", hukou_address=ADDR),
        record("family_planning", "JS0000900001", name="张明轩", birth_month_only="2012-03", sex="1",
               household_id="F900", current_address=ADDR),
        record("family_planning", "JS0000900002", name="张明哲", birth_month_only="2012-03", sex="1",
               household_id="F900", current_address=ADDR),
    ]
    c = link(rows)
    assert together(c, "public_security:GA0000900001", "family_planning:JS0000900001")
    assert together(c, "public_security:GA0000900002", "family_planning:JS0000900002")
    assert not together(c, "public_security:GA0000900001", "public_security:GA0000900002")


def test_strangers_with_the_same_name_and_birth_date_stay_apart(link):
    rows = [
        record("public_security", "GA0000900011", name="王芳", id_number=id_number("440304", "1985-07-01", "022"),
               birth="1985-07-01", sex="2", household_id="H911", hukou_address=ADDR),
        record("public_security", "GA0000900012", name="王芳", id_number=id_number("510104", "1985-07-01", "044"),
               birth="1985-07-01", sex="2", household_id="H912", hukou_address=OTHER_ADDR),
        record("labour", "LD0000900011", name="王芳", birth="1985-07-01", sex="2", current_address=OTHER_ADDR,
               phone="13912345678"),
    ]
    c = link(rows)
    assert not together(c, "public_security:GA0000900011", "public_security:GA0000900012")
    assert together(c, "public_security:GA0000900012", "labour:LD0000900011")
    assert not together(c, "public_security:GA0000900011", "labour:LD0000900011")


def test_dependant_filed_under_the_head_of_household_number_is_not_merged_into_the_head(link):
    head = id_number("440304", "1960-02-11", "013")
    child = id_number("440304", "2010-05-01", "026")
    rows = [
        record("public_security", "GA0000900021", name="李建国", id_number=head, birth="1960-02-11", sex="1",
               household_id="H921", hukou_address=ADDR),
        record("public_security", "GA0000900022", name="李小红", id_number=child, birth="2010-05-01", sex="2",
               household_id="H921", hukou_address=ADDR),
        # civil affairs typed the head's number on the daughter's row
        record("civil_affairs", "MZ0000900021", name="李小红", id_number=head, birth="2010-05-01", sex="2",
               current_address=ADDR),
    ]
    c = link(rows)
    assert not together(c, "public_security:GA0000900021", "civil_affairs:MZ0000900021")
    assert together(c, "public_security:GA0000900022", "civil_affairs:MZ0000900021")


def test_one_person_with_missing_15_digit_and_mistyped_numbers_is_one_cluster(link):
    own = id_number("440306", "1978-12-17", "051")
    typo = own[:10] + str((int(own[10]) + 3) % 10) + own[11:]          # one digit wrong
    swap = own[:14] + own[15] + own[14] + own[16:]                        # two adjacent digits swapped
    rows = [
        record("public_security", "GA0000900031", name="欧阳娜娜", id_number=own, birth="1978-12-17", sex="2",
               household_id="H931", hukou_address=ADDR),
        record("family_planning", "JS0000900031", name="欧阳娜娜", id_number=own, id_form="converted15",
               birth_month_only="1978-12", sex="2", current_address=ADDR, phone="13812345678"),
        record("labour", "LD0000900031", name="欧阳娜娜", id_number=typo, id_form="bad_check", birth="1978-12-17",
               sex="2", current_address=ADDR, phone="13812345678"),
        record("civil_affairs", "MZ0000900031", name="欧阳娜娜", birth="1978-12-17", sex="2", current_address=ADDR),
        record("civil_affairs", "MZ0000900032", name="欧阳娜娜", id_number=swap, id_form="bad_check",
               birth="1978-12-17", sex="2", current_address=OTHER_ADDR),
    ]
    c = link(rows)
    assert together(c, *[r["record_uid"] for r in rows])


def test_officers_cannot_link_and_must_link_are_honoured(link):
    own = id_number("440306", "1990-01-02", "077")
    rows = [
        record("public_security", "GA0000900041", name="赵丽", id_number=own, birth="1990-01-02", sex="2",
               household_id="H941", hukou_address=ADDR),
        record("labour", "LD0000900041", name="赵丽", id_number=own, birth="1990-01-02", sex="2",
               current_address=ADDR),
        record("civil_affairs", "MZ0000900041", name="赵丽", id_number=own, birth="1990-01-02", sex="2",
               current_address=ADDR),
        # nothing in common with 赵丽 but an officer knows it is her (e.g. a name change)
        record("labour", "LD0000900042", name="钱梅", birth="1991-06-30", sex="2", current_address=OTHER_ADDR),
    ]
    assert together(link(rows), "public_security:GA0000900041", "labour:LD0000900041", "civil_affairs:MZ0000900041")
    c = link(rows, decisions=[("public_security:GA0000900041", "labour:LD0000900041", False),
                              ("labour:LD0000900042", "public_security:GA0000900041", True)])
    assert not together(c, "public_security:GA0000900041", "labour:LD0000900041")
    assert together(c, "public_security:GA0000900041", "labour:LD0000900042")


def test_twins_with_two_valid_numbers_are_never_left_uncertain(link):
    """Surname, birth date, address, sex agree; the numbers are both valid and different: two people."""
    a_id, b_id = id_number("440304", "2001-09-09", "113"), id_number("440304", "2001-09-09", "135")
    rows = [
        record("public_security", "GA0000900051", name="周子豪", id_number=a_id, birth="2001-09-09", sex="1",
               household_id="H951", hukou_address=ADDR),
        record("labour", "LD0000900052", name="周子杰", id_number=b_id, birth="2001-09-09", sex="1",
               current_address=ADDR, phone="13700000001"),
    ]
    link(rows)
    p = link.con.execute("SELECT max(match_probability) FROM links WHERE record_uid_l = 'labour:LD0000900052' "
                         "AND record_uid_r = 'public_security:GA0000900051'").fetchone()[0]
    assert p is None or p < UNCERTAIN_BAND[0]


def test_one_number_issued_to_two_people_keeps_them_apart(link):
    """重号: two registered people hold one valid number; the labour office knows one of them by name."""
    shared = id_number("450103", "1975-03-22", "566")
    rows = [
        record("public_security", "GA0000900061", name="孙文平", id_number=shared, birth="1975-03-22", sex="2",
               household_id="H961", hukou_address=ADDR),
        record("public_security", "GA0000900062", name="宋红", id_number=shared, birth="1975-03-22", sex="2",
               household_id="H962", hukou_address=OTHER_ADDR),
        record("labour", "LD0000900062", name="宋红", id_number=shared, birth="1975-03-22", sex="2",
               current_address=OTHER_ADDR),
    ]
    c = link(rows)
    assert not together(c, "public_security:GA0000900061", "public_security:GA0000900062")
    assert together(c, "public_security:GA0000900062", "labour:LD0000900062")


def test_names_on_every_axis(link):
    """A homophone in the middle of the name, a character of unknown reading typed in pinyin, a former
    name used by the other office (either way round): each still the same person."""
    own = id_number("440304", "1990-02-14", "071")
    rows = [
        record("public_security", "GA0000900071", name="李明华", pinyin="li ming hua", birth="1990-02-14", sex="1",
               id_number=own, household_id="H971", hukou_address=ADDR, former_name="李小明",
               former_name_pinyin="li xiao ming"),
        record("labour", "LD0000900071", name="李鸣华", pinyin="li ming hua", birth="1990-02-14", sex="1",
               current_address=OTHER_ADDR),                                  # 明 -> 鸣, no number
        record("civil_affairs", "MZ0000900071", name="李小明", pinyin="li xiao ming", birth="1990-02-14", sex="1",
               current_address=OTHER_ADDR),                                  # the old name, no number
        record("public_security", "GA0000900081", name="赵𠮷", pinyin="zhao ?", birth="1988-06-30", sex="2",
               id_number=id_number("440304", "1988-06-30", "082"), household_id="H981", hukou_address=ADDR,
               current_address=ADDR),
        record("labour", "LD0000900081", name="赵Ji", pinyin="zhao ji", birth="1988-06-30", sex="2",
               current_address=ADDR),
    ]
    c = link(rows)
    assert together(c, "public_security:GA0000900071", "labour:LD0000900071", "civil_affairs:MZ0000900071")
    assert together(c, "public_security:GA0000900081", "labour:LD0000900081")
