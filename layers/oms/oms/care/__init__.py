"""Customer care: buyers' messages in (Amazon's Buyer-Seller Messaging relays them by e-mail), threaded on
their orders, on Amazon's 24-hour clock."""
