def test_start_page_offers_join_and_staff_sign_in(client):
    page = client.get("/").get_data(as_text=True)
    assert "Join your group" in page
    assert "Staff sign in" in page
