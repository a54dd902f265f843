"""Zalo Notification Service (ZNS): template messages to a phone number through a Zalo Official
Account. Not a marketplace: producers read Zalo, so alerts reach them there."""
